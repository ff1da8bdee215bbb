import { and, asc, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import { type OutboxRow, outbox } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { logger } from "../logger";
import type { RealtimeEventName } from "./events";
import { sendToSoketi } from "./announce";
import type { Publisher } from "./publisher";

const log = logger.child({ domain: "outbox" });

// A claimed row is hidden from other publishers this long; a process that dies mid-publish loses it no longer.
const CLAIM_LEASE_SECONDS = 30;
const MAX_BACKOFF_SECONDS = 300;

/** Seconds before retry `attempts` + 1: 1, 2, 4, ... capped at five minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(2 ** Math.max(0, attempts - 1), MAX_BACKOFF_SECONDS);

/**
 * Takes pending rows due by `dueBy` for this publisher: FOR UPDATE SKIP LOCKED
 * plus a lease, so several app instances (and the after-commit path) never
 * publish the same row at the same time.
 */
export async function claimOutboxRows(
  db: DbOrTx,
  options: { limit: number; ids?: number[]; dueBy?: Date },
): Promise<OutboxRow[]> {
  const due = options.dueBy ? lte(outbox.nextAttemptAt, options.dueBy) : lte(outbox.nextAttemptAt, sql`now()`);
  const candidates = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(isNull(outbox.processedAt), due, options.ids ? inArray(outbox.id, options.ids) : undefined))
    .orderBy(asc(outbox.id))
    .limit(options.limit)
    .for("update", { skipLocked: true });
  const rows = await db
    .update(outbox)
    .set({
      attempts: sql`${outbox.attempts} + 1`,
      nextAttemptAt: sql`now() + make_interval(secs => ${CLAIM_LEASE_SECONDS})`,
    })
    .where(inArray(outbox.id, candidates))
    .returning();
  return rows.sort((a, b) => a.id - b.id);
}

/** Publishes claimed rows in order; each is marked done, or rescheduled with backoff and its error. */
export async function deliverOutboxRows(
  db: DbOrTx,
  publisher: Publisher,
  rows: OutboxRow[],
): Promise<{ published: number; failed: number }> {
  let published = 0;
  let failed = 0;
  for (const row of rows) {
    try {
      await sendToSoketi(publisher, {
        channels: row.channels,
        event: row.event as RealtimeEventName,
        payload: row.payload,
      });
    } catch (error) {
      failed++;
      const delay = retryDelaySeconds(row.attempts);
      log.warn(
        { err: error, outboxId: row.id, event: row.event, attempts: row.attempts, retryInSeconds: delay },
        "publish failed; will retry",
      );
      await db
        .update(outbox)
        .set({
          nextAttemptAt: sql`now() + make_interval(secs => ${delay})`,
          lastError: error instanceof Error ? error.message.slice(0, 1000) : String(error),
        })
        .where(eq(outbox.id, row.id));
      continue;
    }
    published++;
    await db.update(outbox).set({ processedAt: sql`now()` }).where(eq(outbox.id, row.id));
  }
  return { published, failed };
}
