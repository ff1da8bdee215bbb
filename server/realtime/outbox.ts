import { and, eq, inArray, isNull } from "drizzle-orm";
import { outbox } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { logger } from "../logger";
import type { RealtimeEventName, RealtimeEvents } from "./events";
import type { Publisher } from "./publisher";

const log = logger.child({ domain: "outbox" });

/** Records an event in the caller's transaction; it is published after commit. */
export async function enqueueEvent<E extends RealtimeEventName>(
  tx: DbOrTx,
  channels: string | string[],
  event: E,
  payload: RealtimeEvents[E],
): Promise<number> {
  const [row] = await tx
    .insert(outbox)
    .values({ channels: Array.isArray(channels) ? channels : [channels], event, payload })
    .returning({ id: outbox.id });
  return row.id;
}

/**
 * Publishes outbox rows right after their transaction committed and marks
 * them done. A failure leaves the row for the background publisher to retry;
 * it never fails the request that wrote it.
 */
export async function publishOutboxRows(db: DbOrTx, publisher: Publisher, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db
    .select()
    .from(outbox)
    .where(and(inArray(outbox.id, ids), isNull(outbox.processedAt)));
  for (const row of rows) {
    try {
      await publisher.publish(row.channels, row.event as RealtimeEventName, row.payload as never);
      await db.update(outbox).set({ processedAt: new Date() }).where(eq(outbox.id, row.id));
    } catch (error) {
      log.warn({ err: error, outboxId: row.id, event: row.event }, "publish failed; the background publisher will retry");
    }
  }
}
