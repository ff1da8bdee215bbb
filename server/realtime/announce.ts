import { sql } from "drizzle-orm";
import { outbox } from "@/db/schema";
import type { Db, DbOrTx, Tx } from "@/db/types";
import { logger } from "../logger";
import type { RealtimeEventName, RealtimeEvents } from "./events";
import type { Publisher } from "./publisher";

const log = logger.child({ domain: "outbox" });

/** An outbox row this process wrote and will publish itself once its transaction commits. */
export type PendingEvent = { id: number; channels: string[]; event: RealtimeEventName; payload: unknown };

/**
 * A row written by a request is leased to that request this long: the
 * background publisher leaves it alone unless the request failed to publish
 * it (Soketi down, the process died between commit and publish).
 */
export const REQUEST_LEASE_SECONDS = 10;

// Test hook only (the cluster suite): never set it in production.
const TEST_PUBLISH_DELAY_MS = Number(process.env.CHORUS_TEST_PUBLISH_DELAY_MS ?? 0);

// Events enqueued inside a transaction run by commitAndAnnounce, keyed by its tx.
const pendingByTx = new WeakMap<object, PendingEvent[]>();

/**
 * Records an event in the caller's transaction. Inside commitAndAnnounce it
 * is published right after commit; anywhere else the background publisher
 * sends it on its next pass.
 */
export async function enqueueEvent<E extends RealtimeEventName>(
  tx: DbOrTx,
  channels: string | string[],
  event: E,
  payload: RealtimeEvents[E],
): Promise<number> {
  const list = Array.isArray(channels) ? channels : [channels];
  const pending = pendingByTx.get(tx);
  const [row] = await tx
    .insert(outbox)
    .values({
      channels: list,
      event,
      payload,
      nextAttemptAt: pending ? sql`now() + make_interval(secs => ${REQUEST_LEASE_SECONDS})` : sql`now()`,
    })
    .returning({ id: outbox.id });
  pending?.push({ id: row.id, channels: list, event, payload });
  return row.id;
}

/**
 * The one owner of "commit, then announce": runs `work` in a transaction,
 * collects every event it enqueued, and publishes them after commit. A
 * rolled-back transaction announces nothing.
 */
export async function commitAndAnnounce<T>(db: Db, publisher: Publisher, work: (tx: Tx) => Promise<T>): Promise<T> {
  let events: PendingEvent[] = [];
  const result = await db.transaction(async (tx) => {
    events = [];
    pendingByTx.set(tx, events);
    return work(tx);
  });
  await announce(db, publisher, events);
  return result;
}

/** One outbox event to Soketi: a publish, or the command to close a user's sockets. */
export function sendToSoketi(publisher: Publisher, event: Omit<PendingEvent, "id">): Promise<void> {
  if (event.event === "connections.end") {
    return publisher.terminateUserConnections((event.payload as RealtimeEvents["connections.end"]).userId);
  }
  return publisher.publish(event.channels, event.event, event.payload as never);
}

/**
 * Publishes committed events in order and marks them done (batched with
 * other requests'). A failure never fails the caller: the row's lease runs
 * out and the background publisher retries it.
 */
export async function announce(db: DbOrTx, publisher: Publisher, events: PendingEvent[]): Promise<void> {
  // Fault tests widen the window between commit and publish to kill an instance inside it.
  if (TEST_PUBLISH_DELAY_MS > 0 && events.length) await new Promise((r) => setTimeout(r, TEST_PUBLISH_DELAY_MS));
  for (const event of events) {
    try {
      await sendToSoketi(publisher, event);
    } catch (error) {
      log.warn(
        { err: error, outboxId: event.id, event: event.event, retryInSeconds: REQUEST_LEASE_SECONDS },
        "after-commit publish failed; the background publisher will retry",
      );
      continue;
    }
    markPublished(db, event.id);
  }
}

type DoneBatch = { ids: number[]; timer: NodeJS.Timeout | null; flushing: Promise<void> };
const doneByDb = new WeakMap<object, DoneBatch>();
const DONE_FLUSH_MS = 5;
const DONE_MAX_BATCH = 500;

/**
 * Published rows are marked done a few milliseconds later, many at once: one
 * UPDATE for all concurrent requests instead of one per event. A crash in
 * between republishes them after the lease, which clients drop by seq.
 */
function markPublished(db: DbOrTx, id: number) {
  let batch = doneByDb.get(db);
  if (!batch) {
    batch = { ids: [], timer: null, flushing: Promise.resolve() };
    doneByDb.set(db, batch);
  }
  batch.ids.push(id);
  if (batch.ids.length >= DONE_MAX_BATCH) void flushBatch(db, batch);
  else batch.timer ??= setTimeout(() => void flushBatch(db, batch), DONE_FLUSH_MS);
}

function flushBatch(db: DbOrTx, batch: DoneBatch): Promise<void> {
  if (batch.timer) clearTimeout(batch.timer);
  batch.timer = null;
  const ids = batch.ids;
  batch.ids = [];
  if (ids.length === 0) return batch.flushing;
  const run = batch.flushing.then(async () => {
    try {
      await db.execute(sql`update outbox set processed_at = now()
        where id = any(${`{${ids.join(",")}}`}::bigint[]) and processed_at is null`);
    } catch (error) {
      log.error({ err: error, outboxIds: ids.length }, "marking published outbox rows failed; they will be re-sent");
    }
  });
  batch.flushing = run;
  return run;
}

/** Writes pending "published" marks now (shutdown, tests that count rows). */
export function flushPublished(db: DbOrTx): Promise<void> {
  const batch = doneByDb.get(db);
  return batch ? flushBatch(db, batch) : Promise.resolve();
}
