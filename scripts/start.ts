// `npm start`: build when needed, start the embedded Soketi (unless an external
// one is configured), run Next.js, and stop everything cleanly on a signal.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

// Soketi pulls in aws-sdk v2, which prints a maintenance notice at load.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
const args = new Set(process.argv.slice(2));
const dev = args.has("--dev");
const buildOnly = args.has("--build-only");

function fail(message: string): never {
  console.error(`\nChorus cannot start: ${message}\n`);
  process.exit(1);
}

// Checked before anything imports Soketi, so the message is clear, not a stack trace.
const { soketiNodeProblem } = await import("../server/realtime/node-support");
const nodeProblem = soketiNodeProblem(process.versions.node);
if (nodeProblem && !process.env.PUSHER_HOST && !buildOnly) fail(nodeProblem);

let env: typeof import("../server/env.js").env;
try {
  ({ env } = await import("../server/env.js"));
} catch (error) {
  fail((error as Error).message);
}

const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
const distDir = process.env.NEXT_DIST_DIR || ".next";
const hashFile = path.join(root, distDir, "chorus-source-hash");

/** A hash of everything the build depends on, so a pulled change triggers a rebuild. */
function sourceHash(): string {
  const hash = createHash("sha256");
  const walk = (p: string) => {
    const stat = statSync(p);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(p).sort()) walk(path.join(p, entry));
    } else if (/\.(tsx?|m?js|css|json|sql)$/.test(p)) {
      hash.update(p).update(readFileSync(p));
    }
  };
  for (const entry of [
    "app",
    "components",
    "server",
    "db",
    "types",
    "next.config.mjs",
    "package-lock.json",
    "tsconfig.json",
  ]) {
    if (existsSync(entry)) walk(entry);
  }
  return hash.digest("hex");
}

function run(
  command: string,
  argv: string[],
  extraEnv: Record<string, string> = {},
  options: { detached?: boolean } = {},
): ChildProcess {
  return spawn(command, argv, { stdio: "inherit", env: { ...process.env, ...extraEnv }, detached: options.detached });
}

async function buildIfNeeded() {
  const wanted = sourceHash();
  const current = existsSync(hashFile) ? readFileSync(hashFile, "utf8") : "";
  if (existsSync(path.join(root, distDir, "BUILD_ID")) && current === wanted) return;
  console.log("Building Chorus (first start or changed sources)...");
  const code = await new Promise<number>((resolve) =>
    run(process.execPath, [nextBin, "build"], { NODE_ENV: "production" }).on("exit", (c) => resolve(c ?? 1)),
  );
  if (code !== 0) fail("`next build` failed (see above).");
  writeFileSync(hashFile, wanted);
}

if (!dev) await buildIfNeeded();
if (buildOnly) process.exit(0);

let soketi: { stop: () => Promise<void> } | undefined;
if (!env.PUSHER_HOST) {
  const { pusherSecret } = await import("../server/config/secrets");
  const { startEmbeddedSoketi, SoketiUnavailableError } = await import("../server/realtime/soketi");
  const { soketiWebhooks } = await import("../server/realtime/webhooks");
  try {
    soketi = await startEmbeddedSoketi({
      host: env.SOKETI_HOST,
      port: env.SOKETI_PORT,
      appId: env.PUSHER_APP_ID,
      key: env.PUSHER_KEY,
      secret: pusherSecret(),
      webhooks: soketiWebhooks(`http://127.0.0.1:${env.PORT}`),
    });
  } catch (error) {
    if (error instanceof SoketiUnavailableError) fail(error.message);
    fail(`the embedded Soketi did not start on port ${env.SOKETI_PORT}: ${(error as Error).message}`);
  }
}

const next = run(
  process.execPath,
  [nextBin, dev ? "dev" : "start", "-p", String(env.PORT)],
  // The Next.js server exits by itself if this supervisor dies without stopping it (server/runtime.ts).
  { NODE_ENV: dev ? "development" : "production", CHORUS_SUPERVISOR_PID: String(process.pid) },
  { detached: true },
);

let stopping = false;
// Next.js runs as its own process group (the CLI forks next-server), so a
// signal reaches all of it; whatever is still alive after the grace period is killed.
function signalNext(signal: NodeJS.Signals) {
  try {
    if (next.pid) process.kill(-next.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  if (next.exitCode === null && next.signalCode === null) {
    const exited = new Promise((resolve) => next.once("exit", resolve));
    signalNext("SIGTERM");
    const graceful = await Promise.race([
      exited.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ]);
    if (!graceful) console.error("Next.js did not stop within 10 s; killing it.");
  }
  // The CLI may exit before its next-server child: make sure none is left behind.
  signalNext("SIGKILL");
  await soketi?.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
next.on("exit", (code) => void stop(code ?? 0));
