// `npm run bench`: the production server (`node scripts/start.mjs`, as `npm
// start` runs it: ONE process with Next.js, the node:http API layer and the
// embedded Soketi) on a fresh Postgres database, driven over loopback.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import webpush from "web-push";
import { createDb } from "@/db/client";
import { migrate } from "@/db/migrate";
import { hashPassword } from "@/server/auth/password";
import type { RealtimeServerConfig } from "@/server/realtime/config";
import { createPublisher } from "@/server/realtime/publisher";
import { freePort } from "@/server/testing/realtime";
import { SERVER_NODE_FLAGS } from "../scripts/server-node-flags.mjs";
import { stopTree, treeCpuSeconds } from "./proc";
import { sleep } from "./stats";
import { BENCH_PASSWORD, httpSignIn, mintedSession, procedurePaths, randomSecret, type Target } from "./target";

export type HttpTargetOptions = {
  /** The server to create the bench database on. */
  adminUrl: string;
  log: (line: string) => void;
  /** Extra server environment (DATABASE_POOL_SIZE and the like). */
  serverEnv?: Record<string, string>;
};

const root = path.resolve(import.meta.dirname, "..");

/** Where the bench's production build lives: its own folder, so it never races a developer's `.next`. */
export const BENCH_DIST_DIR = ".next-bench";

export async function startHttpTarget(
  options: HttpTargetOptions,
): Promise<Target & { serverEnv: Record<string, string> }> {
  const dbName = `chorus_bench_${randomSecret().slice(0, 10)}`;
  const admin = await createDb({ databaseUrl: options.adminUrl, maxConnections: 1 });
  await admin.db.execute(sql.raw(`create database ${dbName}`));
  await admin.close();
  const url = new URL(options.adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const dropDatabase = async () => {
    const again = await createDb({ databaseUrl: options.adminUrl, maxConnections: 1 });
    await again.db.execute(sql.raw(`drop database if exists ${dbName} with (force)`));
    await again.close();
  };

  let child: ChildProcess | undefined;
  try {
    const handle = await createDb({ databaseUrl, maxConnections: 10 });
    await migrate(handle);

    const [port, soketiPort, pushSinkPort] = [await freePort(), await freePort(), await freePort()];
    const realtime: RealtimeServerConfig = {
      appId: "chorus",
      key: "chorus-key",
      secret: randomSecret(),
      host: "127.0.0.1",
      port: soketiPort,
      useTLS: false,
    };
    const serverEnv: Record<string, string> = {
      NODE_ENV: "production",
      PORT: String(port),
      SOKETI_PORT: String(soketiPort),
      SOKETI_HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: "20",
      AUTH_SECRET: randomSecret(),
      PUSHER_SECRET: realtime.secret,
      // DATABASE_URL makes the VAPID keys required; a fresh pair per run.
      ...vapidEnv(),
      // The push section's local push service, over http: the only endpoint the bench's server may push to.
      WEB_PUSH_ALLOW_HOSTS: `127.0.0.1:${pushSinkPort}`,
      PUSH_RATE_LIMIT: "1000000000",
      PUSH_POLL_MS: "100",
      PUSHER_APP_ID: realtime.appId,
      PUSHER_KEY: realtime.key,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), "chorus-bench-")),
      NEXT_DIST_DIR: BENCH_DIST_DIR,
      NEXTAUTH_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: "warn",
      // The per-sender send limit protects users from floods; the bench measures the engine behind it.
      MESSAGE_RATE_LIMIT: "1000000000",
      MUTATION_RATE_LIMIT: "1000000000",
      SIGNUP_RATE_LIMIT: "1000000000",
      ...options.serverEnv,
    };
    const logFile = path.join(root, "bench", "results", "server.log");
    const out = createWriteStream(logFile);
    const started = performance.now();
    options.log(
      `starting the production server (node scripts/start.mjs; builds into ${BENCH_DIST_DIR} if sources changed; log: ${logFile})`,
    );
    // node itself, as `npm start` runs it (minus npm): signals reach the server process directly.
    // BENCH_SERVER_NODE_ARGS: extra node flags for the server (e.g. --cpu-prof to see where its time goes).
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
    child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...nodeArgs, "scripts/start.mjs"], {
      cwd: root,
      env: { ...process.env, ...serverEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const baseUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20 * 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}; see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`the server did not become healthy in time; see ${logFile}`);
      const ok = await fetch(`${baseUrl}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await sleep(500);
    }
    options.log(`server healthy after ${Math.round((performance.now() - started) / 1000)} s at ${baseUrl}`);

    const paths = await procedurePaths();
    const server = child;
    return {
      mode: "http",
      driver: "postgres",
      handle,
      db: handle.db,
      realtime,
      publisher: createPublisher(realtime),
      password: BENCH_PASSWORD,
      passwordHash: await hashPassword(BENCH_PASSWORD),
      serverEnv,
      signIn: (user) => httpSignIn(baseUrl, user, BENCH_PASSWORD),
      session: (user) => mintedSession(baseUrl, user, serverEnv.AUTH_SECRET),
      has: (p) => paths.has(p),
      push: { sinkPort: pushSinkPort },
      // One process now; the tree still counts anything it starts (a build's `next build` child, say).
      serverCpuSeconds: () => treeCpuSeconds(server.pid),
      http: {
        baseUrl,
        authSecret: serverEnv.AUTH_SECRET,
        databaseUrl,
        pid: server.pid ?? 0,
        env: serverEnv,
      },
      async close() {
        // SIGTERM (the server shuts down gracefully), then SIGKILL whatever of the tree we started is left, by id.
        await stopTree(server);
        await handle.close();
        await dropDatabase();
      },
    };
  } catch (error) {
    if (child) await stopTree(child);
    await dropDatabase();
    throw error;
  }
}

function vapidEnv(): Record<string, string> {
  const keys = webpush.generateVAPIDKeys();
  return {
    VAPID_PUBLIC_KEY: keys.publicKey,
    VAPID_PRIVATE_KEY: keys.privateKey,
    VAPID_SUBJECT: "mailto:bench@chorus.invalid",
  };
}
