import type { Db } from "@/db/types";
import { appVersion, startInstanceBeat } from "./admin/health";
import { watchStanding } from "./auth/standing";
import { closeAppDb, getAppDbHandle } from "./db";
import { env } from "./env";
import { storageFromEnv } from "./files/from-env";
import { startUploadSweeper } from "./files/sweep";
import { logger } from "./logger";
import { allowHostsFrom, startPreviewWorker } from "./previews/worker";
import { getReceiptsNotifier } from "./messaging/receipts-notifier";
import { startPresenceSweeper } from "./presence/sweeper";
import { pushConfig } from "./push/config";
import { startPushWorker } from "./push/worker";
import { flushPublished } from "./realtime/announce";
import { startRetentionWorker } from "./retention/retention";
import { startOutboxWorker } from "./realtime/outbox-worker";
import type { Publisher } from "./realtime/publisher";
import { closeSharedRedis, redisReady } from "./rate-limit";

type Worker = { stop: () => Promise<void> };

export type ServerRuntime = { db: Db; stop: () => Promise<void> };

/** The process's database (opened and migrated) and the background workers each domain registers here. */
export async function startServerRuntime(publisher: Publisher): Promise<ServerRuntime> {
  const handle = await getAppDbHandle();
  const { db } = handle;
  await redisReady();
  const workers: Worker[] = [
    // Postgres: standings are trusted for minutes, changes arriving by NOTIFY (PGlite has one process).
    ...(handle.listen ? [await watchStanding(db, handle.listen)] : []),
    startOutboxWorker(db, publisher, { pollMs: env.OUTBOX_POLL_MS, retentionHours: env.OUTBOX_RETENTION_HOURS }),
    startPresenceSweeper(db, publisher),
    // Reads the VAPID keys now: a deployment missing them fails the start, not the first push.
    startPushWorker(db, { config: pushConfig() }, { pollMs: env.PUSH_POLL_MS }),
    // Uploads no message claimed within a day.
    startUploadSweeper(db, storageFromEnv()),
    ...(env.LINK_PREVIEWS === "off"
      ? []
      : [startPreviewWorker(db, { publisher, fetch: { allowHosts: allowHostsFrom(env.LINK_PREVIEW_ALLOW_HOSTS) } })]),
    startInstanceBeat(db, appVersion()),
    startRetentionWorker(db),
    // Pending receipts.changed hints and "published" marks go out before the process exits.
    { stop: () => getReceiptsNotifier().flush() },
    { stop: () => flushPublished(db) },
    { stop: closeSharedRedis },
  ];
  return {
    db,
    async stop() {
      for (const worker of workers.reverse()) {
        try {
          await worker.stop();
        } catch (error) {
          logger.error({ err: error }, "worker failed to stop");
        }
      }
      await closeAppDb();
    },
  };
}
