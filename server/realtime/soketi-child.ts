import { type ChildProcess, spawn } from "node:child_process";
import { logger } from "../logger";

const log = logger.child({ domain: "soketi" });

/** What scripts/soketi.ts sends its parent over IPC once it listens. */
export const SOKETI_READY_MESSAGE = "chorus:soketi-ready";
/** What the app sends it to stop: it ignores SIGTERM and SIGINT, which a terminal or service manager sends the whole group. */
export const SOKETI_STOP_MESSAGE = "chorus:soketi-stop";

export type SoketiChildOptions = {
  /** The Node that runs it (Soketi's uWebSockets.js build needs Node 20). */
  node: string;
  /** Arguments to that Node: the `npm run soketi` entry (bundled, or through tsx in dev). */
  args: string[];
  cwd: string;
  /** The node's whole environment: SOKETI_PORT, PUSHER_APP_ID/KEY and PUSHER_SECRET included. */
  env: NodeJS.ProcessEnv;
  port: number;
  readyTimeoutMs?: number;
  /** The stop message, then SIGKILL after this long. */
  stopTimeoutMs?: number;
  /** Restarts after a crash wait minDelayMs, doubling up to maxDelayMs; a node up for a minute starts over at minDelayMs. */
  restart?: { minDelayMs: number; maxDelayMs: number };
};

export type SoketiChild = {
  port: number;
  /** The running node's pid (a test kills it). */
  pid: () => number | undefined;
  /** Resolves when a node is up again (after a restart). */
  ready: () => Promise<void>;
  stop: () => Promise<void>;
};

const STDERR_TAIL = 4_000;
const STABLE_MS = 60_000;

/**
 * Runs the `npm run soketi` node in a child process (the app runs on a Node
 * Soketi does not load on). Resolves once it listens; rejects with its error
 * output if it exits first. A later crash is logged and the node restarted
 * with backoff; the outbox publisher retries what it missed meanwhile.
 */
export async function startSoketiChild(options: SoketiChildOptions): Promise<SoketiChild> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const restart = options.restart ?? { minDelayMs: 500, maxDelayMs: 30_000 };
  let child: ChildProcess | undefined;
  let stopping = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let up: Promise<void> = Promise.resolve();

  /** Starts one node; resolves when it is ready, rejects when it exits or times out first. */
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const startedAt = Date.now();
      const proc = spawn(options.node, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ["ignore", "inherit", "pipe", "ipc"],
      });
      child = proc;
      let ready = false;
      let stderr = "";
      proc.stderr?.on("data", (chunk: Buffer) => {
        process.stderr.write(chunk);
        stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
      });
      const timeout = setTimeout(() => {
        proc.kill("SIGKILL");
        reject(new Error(`the Soketi process was not ready within ${readyTimeoutMs / 1000} s`));
      }, readyTimeoutMs);
      proc.on("message", (message: { type?: string }) => {
        if (message?.type !== SOKETI_READY_MESSAGE || ready) return;
        ready = true;
        clearTimeout(timeout);
        log.info({ pid: proc.pid, port: options.port, node: options.node }, "soketi process ready");
        resolve();
      });
      proc.on("error", (error) => {
        clearTimeout(timeout);
        reject(new Error(`could not run ${options.node}: ${error.message}`));
      });
      proc.on("exit", (code, signal) => {
        clearTimeout(timeout);
        if (child === proc) child = undefined;
        if (!ready) {
          const output = stderr.trim();
          reject(
            new Error(
              `the Soketi process exited (${signal ?? `code ${code}`}) before it was ready${output ? `:\n${output}` : ""}`,
            ),
          );
          return;
        }
        if (stopping) return;
        if (Date.now() - startedAt >= STABLE_MS) failures = 0;
        scheduleRestart(`exited (${signal ?? `code ${code}`})`);
      });
    });

  const scheduleRestart = (why: string) => {
    const delayMs = Math.min(restart.minDelayMs * 2 ** failures, restart.maxDelayMs);
    failures += 1;
    log.error({ port: options.port, why, delayMs, failures }, "soketi process died; restarting");
    up = new Promise<void>((resolve) => {
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopping) return resolve();
        launch().then(resolve, (error: Error) => {
          if (!stopping) scheduleRestart(error.message);
          // The next attempt's promise is the one to wait on.
          void up.then(resolve);
        });
      }, delayMs);
    });
  };

  await launch();
  return {
    port: options.port,
    pid: () => child?.pid,
    ready: () => up,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      if (proc.connected) proc.send({ type: SOKETI_STOP_MESSAGE });
      else proc.kill("SIGTERM");
      const killer = setTimeout(() => {
        log.error({ pid: proc.pid, stopTimeoutMs }, "soketi process did not stop; killing it");
        proc.kill("SIGKILL");
      }, stopTimeoutMs);
      await exited;
      clearTimeout(killer);
      log.info({ port: options.port }, "soketi process stopped");
    },
  };
}
