import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { Db, DbOrTx } from "@/db/types";
import { appendMessage } from "../messaging/append";
import { flushPublished } from "../realtime/announce";
import type { Persona } from "./personas";

export { useTestPublisher } from "./publisher";

/** Messages through the real append path, one transaction each; returns their seqs. */
export async function say(db: Db, conversationId: string, sender: Persona | null, bodies: string[]): Promise<number[]> {
  const seqs: number[] = [];
  for (const body of bodies) {
    const { message } = await db.transaction((tx) =>
      appendMessage(tx, { conversationId, senderId: sender?.id ?? null, kind: sender ? "text" : "system", body }),
    );
    seqs.push(message.seq);
  }
  return seqs;
}

/**
 * Rows each table gained or rewrote while `action` ran, from the tuples'
 * xmin: a row updated twice (outbox published) counts once. The test
 * database must have no other writers meanwhile.
 */
export async function rowsWrittenBy(db: DbOrTx, action: () => Promise<unknown>): Promise<Record<string, number>> {
  // Marks from earlier work settle first; this action's own are flushed after it.
  await flushPublished(db);
  const [before] = await queryRows<{ xid: string }>(
    db,
    sql`select (pg_current_xact_id()::text::bigint % 4294967296)::text as xid`,
  );
  await action();
  // "Published" marks are batched a few milliseconds after the publish: they belong to this action.
  await flushPublished(db);
  const after = sql`xmin::text::bigint > ${before.xid}::bigint`;
  const [row] = await queryRows<Record<string, string | number>>(
    db,
    sql`select
      (select count(*) from users where ${after}) as users,
      (select count(*) from conversations where ${after}) as conversations,
      (select count(*) from members where ${after}) as members,
      (select count(*) from messages where ${after}) as messages,
      (select count(*) from mentions where ${after}) as mentions,
      (select count(*) from message_reactions where ${after}) as message_reactions,
      (select count(*) from outbox where ${after}) as outbox`,
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

/** A member's positions as stored. */
export async function positionsOf(db: DbOrTx, conversationId: string, userId: string) {
  const [row] = await queryRows<{ read_seq: string | number; delivered_seq: string | number; muted: boolean }>(
    db,
    sql`select read_seq, delivered_seq, notify_level is not distinct from 'none' as muted from members
        where conversation_id = ${conversationId}::uuid and user_id = ${userId}::uuid`,
  );
  return { readSeq: Number(row.read_seq), deliveredSeq: Number(row.delivered_seq), muted: row.muted };
}
