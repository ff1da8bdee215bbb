import { closeAppDb, getAppDbHandle } from "./db";
import { env } from "./env";
import { logger } from "./logger";
import { startOutboxWorker } from "./realtime/outbox-worker";
import { getPublisher } from "./realtime/publisher";
import { startAppPresenceSweeper } from "./presence/sweeper";
import { getReceiptsNotifier } from "./messaging/receipts-notifier";

type Worker = { stop: () => Promise<void> };

const globalForRuntime = globalThis as unknown as { chorusRuntime?: { workers: Worker[] } };

/** Database first, then the workers each domain registers here. */
export async function startServerRuntime(): Promise<void> {
  if (globalForRuntime.chorusRuntime) return;
  const runtime = { workers: [] as Worker[] };
  globalForRuntime.chorusRuntime = runtime;
  const { db } = await getAppDbHandle();
  runtime.workers.push(
    startOutboxWorker(db, getPublisher(), { pollMs: env.OUTBOX_POLL_MS, retentionHours: env.OUTBOX_RETENTION_HOURS }),
  );
  runtime.workers.push(await startAppPresenceSweeper());
  // Pending receipts.changed hints go out before the process exits.
  runtime.workers.push({ stop: () => getReceiptsNotifier().flush() });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    for (const worker of runtime.workers.reverse()) {
      try {
        await worker.stop();
      } catch (error) {
        logger.error({ err: error }, "worker failed to stop");
      }
    }
    await closeAppDb();
    logger.info("shutdown complete");
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  watchSupervisor(() => void shutdown("supervisor gone"));
}

/**
 * `npm start` runs Next.js in its own process group; if the start script is
 * killed outright (SIGKILL), nothing would stop this server, so it stops itself.
 */
function watchSupervisor(onGone: () => void) {
  const pid = Number(process.env.CHORUS_SUPERVISOR_PID);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      clearInterval(timer);
      onGone();
    }
  }, 1000);
  timer.unref();
}
