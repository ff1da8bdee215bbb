// The moving parts of a scaled-out Chorus, each a real process on 127.0.0.1
// that a test may kill and start again: a private Postgres cluster (initdb +
// pg_ctl, so it can be restarted), a private Redis, Soketi nodes clustered on
// that Redis (`npm run soketi`), and app instances (`node scripts/start.mjs`).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "@/server/testing/realtime";
import webpush from "web-push";
import { SERVER_NODE_FLAGS } from "../scripts/server-node-flags.mjs";

const clusterVapid = webpush.generateVAPIDKeys();

const root = path.resolve(import.meta.dirname, "..");
const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** Waits for `check` to hold, polling; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`,
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Keeps the last lines a child printed, for failure messages. */
function tail(child: ChildProcess, lines: string[], max = 60) {
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(line);
    while (lines.length > max) lines.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
}

async function stopChild(child: ChildProcess | null, signal: NodeJS.Signals, timeoutMs = 15_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------- Postgres

export type PrivatePostgres = {
  port: number;
  url: (database?: string) => string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  destroy: () => Promise<void>;
};

/** A Postgres cluster of its own in a temp folder, run as the `postgres` user when we are root. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "chorus-pg-"));
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) => {
    const cmd = path.join(PG_BIN, bin);
    return asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" })
      : execFileSync(cmd, args, { stdio: "pipe" });
  };
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const data = path.join(dir, "data");
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    run("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
  };
  const stop = async () => {
    run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]);
  };
  await start();
  const url = (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    start,
    stop,
    async destroy() {
      try {
        await stop();
      } catch {
        // Already stopped by the test.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- Redis

export type PrivateRedis = { port: number; url: string; kill: () => Promise<void>; start: () => Promise<void> };

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    await until(`redis on ${port}`, () => portOpen(port), 15_000);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill: () => stopChild(child, "SIGKILL"),
  };
}

// ---------------------------------------------------------------- Soketi and app instances

export type ClusterSecrets = { authSecret: string; pusherSecret: string; appId: string; key: string };

export type Service = {
  name: string;
  port: number;
  /** SIGKILL: no goodbye to anyone. */
  kill: () => Promise<void>;
  /** SIGTERM and wait. */
  stop: () => Promise<void>;
  start: () => Promise<void>;
  logs: () => string;
  running: () => boolean;
};

function service(
  name: string,
  port: number,
  command: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
  readyTimeoutMs: number,
): Service {
  let child: ChildProcess | null = null;
  const lines: string[] = [];
  const svc: Service = {
    name,
    port,
    async start() {
      const [cmd, ...args] = command;
      child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      tail(child, lines);
      const current = child;
      await until(
        `${name} ready on ${port}:\n${lines.join("\n")}`,
        async () => {
          if (current.exitCode !== null) throw new Error(`${name} exited with ${current.exitCode}`);
          return ready();
        },
        readyTimeoutMs,
        200,
      );
    },
    kill: () => stopChild(child, "SIGKILL"),
    stop: () => stopChild(child, "SIGTERM"),
    logs: () => lines.join("\n"),
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
  };
  return svc;
}

export async function soketiNode(
  name: string,
  options: ClusterSecrets & { redisUrl: string; webhookUrl: string; dataDir: string },
): Promise<Service> {
  const port = await freePort();
  return service(
    name,
    port,
    [process.execPath, "--import", "tsx", "scripts/soketi.ts"],
    {
      SOKETI_PORT: String(port),
      SOKETI_HOST: "127.0.0.1",
      PUSHER_APP_ID: options.appId,
      PUSHER_KEY: options.key,
      PUSHER_SECRET: options.pusherSecret,
      SOKETI_ADAPTER_DRIVER: "redis",
      SOKETI_REDIS_URL: options.redisUrl,
      SOKETI_WEBHOOK_URL: options.webhookUrl,
      DATA_DIR: options.dataDir,
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
    },
    () => portOpen(port),
    60_000,
  );
}

export type AppInstance = Service & { url: string };

export async function appInstance(
  name: string,
  options: ClusterSecrets & {
    port?: number;
    databaseUrl: string;
    redisUrl: string;
    soketiPort: number;
    workerId: number;
    dataDir: string;
    extraEnv?: Record<string, string>;
  },
): Promise<AppInstance> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const svc = service(
    name,
    port,
    [process.execPath, ...SERVER_NODE_FLAGS, "scripts/start.mjs"],
    {
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      DATABASE_POOL_SIZE: "10",
      AUTH_SECRET: options.authSecret,
      PUSHER_APP_ID: options.appId,
      PUSHER_KEY: options.key,
      PUSHER_SECRET: options.pusherSecret,
      // One VAPID pair for every instance, as a deployment shares it.
      VAPID_PUBLIC_KEY: clusterVapid.publicKey,
      VAPID_PRIVATE_KEY: clusterVapid.privateKey,
      VAPID_SUBJECT: "mailto:cluster@chorus.invalid",
      PUSHER_HOST: "127.0.0.1",
      PUSHER_PORT: String(options.soketiPort),
      REDIS_URL: options.redisUrl,
      SNOWFLAKE_WORKER_ID: String(options.workerId),
      DATA_DIR: options.dataDir,
      NEXT_DIST_DIR: clusterDistDir,
      OUTBOX_POLL_MS: "200",
      MESSAGE_RATE_LIMIT: "1000000",
      MUTATION_RATE_LIMIT: "1000000",
      LOG_LEVEL: "warn",
      ...options.extraEnv,
    },
    async () => {
      const response = await fetch(`${url}/api/health`).catch(() => null);
      return response?.status === 200;
    },
    120_000,
  );
  return { ...svc, url };
}

// The e2e suite's build folder: CI builds it once for both suites.
export const clusterDistDir = process.env.CLUSTER_NEXT_DIST_DIR ?? ".next";

/** Builds the app once (when sources changed) before instances start, so two never build at once. */
export function buildApp() {
  execFileSync(process.execPath, ["scripts/start.mjs", "--build-only"], {
    cwd: root,
    env: { ...process.env, NEXT_DIST_DIR: clusterDistDir },
    stdio: "inherit",
  });
  if (!existsSync(path.join(root, clusterDistDir, "BUILD_ID"))) throw new Error("the build left no BUILD_ID");
}

export function tempDir(prefix: string) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
