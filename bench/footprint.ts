// Section 9: what `npm start` costs on the embedded default (PGlite, the
// embedded Soketi, no DATABASE_URL): time from spawn to a healthy server, and
// resident memory once idle. The build is already in the bench's dist folder
// (a --build-only pass runs first, uncounted), so only the start is timed.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "@/server/testing/realtime";
import { SERVER_NODE_FLAGS } from "../scripts/server-node-flags.mjs";
import type { BenchContext, SectionResult } from "./context";
import { BENCH_DIST_DIR } from "./http-target";
import { processTree, stopTree, treeRssBytes } from "./proc";
import { sleep } from "./stats";

const TARGET_READY_SECONDS = 5;
const TARGET_RSS_MB = 500;

const root = path.resolve(import.meta.dirname, "..");

/** The environment of a fresh `npm start`: none of Chorus's settings (the bench's own server has many). */
function defaultEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const chorusSetting =
    /^(DATABASE_|PUSHER_|SOKETI_|AUTH_|NEXTAUTH_|REDIS_|PGLITE_|PRESENCE_|SIGNIN_|SIGNUP_|MESSAGE_|MUTATION_|OUTBOX_|RECEIPTS_|TYPING_|GROUP_|BLOCKED_|SNOWFLAKE_)|^(DATA_DIR|PORT|NEXT_DIST_DIR|NODE_ENV|LOG_LEVEL)$/;
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !chorusSetting.test(key)) env[key] = value;
  }
  return env;
}

type Start = { readySeconds: number; readyRssMb: number; rebuilt: boolean; child: ChildProcess; dataDir: string };

/** Spawns the embedded default on a fresh DATA_DIR and waits until /api/health answers 200. */
async function startOnce(ctx: BenchContext, logFile: string): Promise<Start> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "chorus-footprint-"));
  const [port, soketiPort] = [await freePort(), await freePort()];
  // NODE_ENV stays unset, as in a shell running `npm start` (the server sets it itself).
  const env = {
    ...defaultEnv(),
    PORT: String(port),
    SOKETI_PORT: String(soketiPort),
    DATA_DIR: dataDir,
    PGLITE_DIR: path.join(dataDir, "pglite"),
    NEXT_DIST_DIR: BENCH_DIST_DIR,
  } as unknown as NodeJS.ProcessEnv;
  ctx.log(`footprint: making sure ${BENCH_DIST_DIR} is current (not counted)`);
  const building = spawn(process.execPath, ["scripts/start.mjs", "--build-only"], { cwd: root, env, stdio: "ignore" });
  const built = await new Promise<number>((resolve) => building.once("exit", (code) => resolve(code ?? 1)));
  if (built !== 0) throw new Error(`the build failed (exit ${built})`);

  ctx.log(`footprint: node scripts/start.mjs on the embedded default (log: ${logFile})`);
  const start = performance.now();
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, "scripts/start.mjs"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = createWriteStream(logFile);
  let rebuilt = false;
  child.stdout?.on("data", (chunk: Buffer) => {
    if (chunk.toString("utf8").includes("Building Chorus")) rebuilt = true;
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const deadline = start + 300_000;
  try {
    while (performance.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}; see ${logFile}`);
      const ok = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        const readySeconds = (performance.now() - start) / 1000;
        return { readySeconds, readyRssMb: treeRssBytes(child.pid) / 2 ** 20, rebuilt, child, dataDir };
      }
      await sleep(50);
    }
    throw new Error(`not healthy within 300 s; see ${logFile}`);
  } catch (error) {
    await stopTree(child);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Another engineer's edit between the build check and the start makes the start build again: that start is retried. */
const START_ATTEMPTS = 3;

export async function footprintSection(ctx: BenchContext): Promise<SectionResult | null> {
  if (!ctx.target.http) return null;
  const { sizes } = ctx;
  const logFile = path.join(root, "bench", "results", "footprint.log");
  let started: Start | undefined;
  try {
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      started = await startOnce(ctx, logFile);
      if (!started.rebuilt || attempt === START_ATTEMPTS) break;
      ctx.log("footprint: the sources changed meanwhile and the start rebuilt; starting again");
      await stopTree(started.child);
      rmSync(started.dataDir, { recursive: true, force: true });
    }
  } catch (error) {
    ctx.log(`footprint: not measured: ${(error as Error).message}`);
    return {
      data: { error: (error as Error).message },
      tables: [
        {
          title: "9. Footprint (npm start, embedded default)",
          workload: "node scripts/start.mjs on the embedded default",
          columns: ["measure", "value"],
          rows: [["not measured", (error as Error).message]],
        },
      ],
    };
  }
  if (!started) return null;
  const { child, dataDir, readySeconds, readyRssMb, rebuilt } = started;
  try {
    ctx.log(`footprint: healthy after ${readySeconds.toFixed(2)} s; idle for ${sizes.footprintIdleSeconds} s`);
    await sleep(sizes.footprintIdleSeconds * 1000);
    const rssMb = treeRssBytes(child.pid) / 2 ** 20;
    const processes = child.pid ? processTree(child.pid).pids.length : 0;
    const verdict = (value: number, target: number) =>
      !Number.isFinite(value) ? "n/a" : value <= target ? "met" : "MISSED";
    return {
      data: { readySeconds, rebuilt, readyRssMb, rssMb, processes, idleSeconds: sizes.footprintIdleSeconds },
      tables: [
        {
          title: "9. Footprint (npm start, embedded default)",
          workload: `node scripts/start.mjs with a fresh DATA_DIR (PGlite loaded from the build's migrated template, migrations checked at start), the embedded Soketi, no DATABASE_URL, the build already in ${BENCH_DIST_DIR}`,
          columns: ["measure", "value", "target", ""],
          rows: [
            [
              "ready: spawn -> /api/health 200",
              `${readySeconds.toFixed(2)} s`,
              `<= ${TARGET_READY_SECONDS} s`,
              verdict(readySeconds, TARGET_READY_SECONDS),
            ],
            [
              `resident memory after ${sizes.footprintIdleSeconds} s idle (VmRSS, ${processes} process${processes === 1 ? "" : "es"})`,
              `${rssMb.toFixed(0)} MB`,
              `<= ${TARGET_RSS_MB} MB`,
              verdict(rssMb, TARGET_RSS_MB),
            ],
            ["resident memory when first healthy", `${readyRssMb.toFixed(0)} MB`, "", ""],
          ],
          notes: [
            "node is spawned directly: npm's own process (what `npm start` adds on top) is not part of these figures",
            "RSS is summed over the process tree from /proc/<pid>/status; MB = 2^20 bytes",
            ...(rebuilt
              ? ["the sources kept changing during the run: this start REBUILT first, so its time includes a build"]
              : []),
          ],
        },
      ],
    };
  } finally {
    await stopTree(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
