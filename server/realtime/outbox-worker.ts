import { startBackgroundLoop } from "../background-loop";
import { and, isNotNull, lt, sql } from "drizzle-orm";
import { outbox } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { logger } from "../logger";
import { claimOutboxRows, deliverOutboxRows } from "./outbox";
import type { Publisher } from "./publisher";

const log = logger.child({ domain: "outbox" });

export type DrainResult = { claimed: number; published: number; failed: number };

/**
 * One pass of the background publisher: claims up to `limit` due rows and
 * publishes them. `dueBy` lets tests and the bench act as if retry delays
 * had passed.
 */
export async function drainOutbox(
  db: DbOrTx,
  publisher: Publisher,
  options: { limit?: number; dueBy?: Date } = {},
): Promise<DrainResult> {
  const rows = await claimOutboxRows(db, { limit: options.limit ?? 100, dueBy: options.dueBy });
  const { published, failed } = await deliverOutboxRows(db, publisher, rows);
  return { claimed: rows.length, published, failed };
}

/** Deletes rows published longer ago than the retention window; returns how many. */
export async function purgeOutbox(db: DbOrTx, options: { retentionHours: number }): Promise<number> {
  const deleted = await db
    .delete(outbox)
    .where(
      and(
        isNotNull(outbox.processedAt),
        lt(outbox.processedAt, sql`now() - make_interval(secs => ${Math.round(options.retentionHours * 3600)})`),
      ),
    )
    .returning({ id: outbox.id });
  return deleted.length;
}

export type OutboxWorkerOptions = { pollMs: number; retentionHours: number; batchSize?: number };

const PURGE_EVERY_MS = 60_000;

/** Polls for due rows until stopped; stop() waits for the pass in flight. */
export function startOutboxWorker(db: DbOrTx, publisher: Publisher, options: OutboxWorkerOptions) {
  const batchSize = options.batchSize ?? 100;
  let lastPurge = 0;
  const loop = startBackgroundLoop(options.pollMs, async (stopped) => {
    try {
      // A full batch means more may be due: keep going without waiting a poll interval.
      for (;;) {
        const result = await drainOutbox(db, publisher, { limit: batchSize });
        if (result.claimed > 0) log.debug(result, "outbox pass");
        if (stopped() || result.claimed < batchSize || result.failed > 0) break;
      }
      if (Date.now() - lastPurge >= PURGE_EVERY_MS) {
        lastPurge = Date.now();
        const purged = await purgeOutbox(db, { retentionHours: options.retentionHours });
        if (purged > 0) log.info({ purged }, "purged published outbox rows");
      }
    } catch (error) {
      log.error({ err: error }, "outbox pass failed");
    }
  });
  log.info({ pollMs: options.pollMs }, "outbox publisher started");
  return loop;
}
