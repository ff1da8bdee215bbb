import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { Db, DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { userChannel } from "../realtime/channels";
import { announce, REQUEST_LEASE_SECONDS } from "../realtime/announce";
import type { Publisher } from "../realtime/publisher";
import { requireMembership } from "./membership";
import { getReceiptsNotifier, type ReceiptsNotifier } from "./receipts-notifier";

export type ReadStateDeps = { publisher: Publisher; notifier?: ReceiptsNotifier };

const seqSchema = z.number().int("seq must be a whole number").min(0, "seq must be 0 or more");

export const markReadInput = z.object({ conversationId: z.uuid("conversationId must be a UUID"), seq: seqSchema });

/** Clients batch acknowledgements (every few seconds); this bounds one batch. */
export const MAX_DELIVERED_ITEMS = 200;

export const markDeliveredInput = z.object({
  items: z
    .array(z.object({ conversationId: z.uuid("conversationId must be a UUID"), seq: seqSchema }))
    .min(1, "items must not be empty")
    .max(MAX_DELIVERED_ITEMS, `at most ${MAX_DELIVERED_ITEMS} items per call`),
});

export type MarkReadResult = { readSeq: number; moved: boolean };

/**
 * Moves the user's read position (and delivered, which read implies) forward
 * to `seq`. An older seq is accepted and ignored; a seq beyond the last
 * message is a BAD_REQUEST. One member row and one outbox row are written,
 * whatever the group size.
 */
export async function markRead(
  db: Db,
  input: { userId: string; conversationId: string; seq: number },
  deps: ReadStateDeps,
): Promise<MarkReadResult> {
  const { userId, conversationId, seq } = input;
  parseOrBadRequest(seqSchema, seq);
  const channel = userChannel(userId);
  // One statement: greatest() under the row lock, so concurrent marks never
  // move a position back, and the read.changed row for the user's other devices.
  const [moved] = await queryRows<{ read_seq: number | string; member_count: number; outbox_id: number | string }>(
    db,
    sql`with moved as (
          update members m
          set read_seq = greatest(m.read_seq, ${seq}::bigint),
              delivered_seq = greatest(m.delivered_seq, ${seq}::bigint)
          from conversations c
          where m.conversation_id = ${conversationId}::uuid and m.user_id = ${userId}::uuid and m.left_at is null
            and c.id = m.conversation_id and ${seq}::bigint <= c.last_seq and m.read_seq < ${seq}::bigint
          returning m.read_seq, c.member_count
        ), event as (
          insert into outbox (channels, event, payload, next_attempt_at)
          select array[${channel}], 'read.changed',
                 jsonb_build_object('conversationId', ${conversationId}::text, 'readSeq', moved.read_seq),
                 now() + make_interval(secs => ${REQUEST_LEASE_SECONDS})
          from moved
          returning id
        )
        select moved.read_seq, moved.member_count, event.id as outbox_id from moved, event`,
  );
  if (!moved) {
    const { member, conversation } = await requireMembership(db, conversationId, userId);
    assertWithinHistory(seq, conversation.lastSeq);
    return { readSeq: member.readSeq, moved: false };
  }
  const readSeq = Number(moved.read_seq);
  await announce(db, deps.publisher, [
    { id: Number(moved.outbox_id), channels: [channel], event: "read.changed", payload: { conversationId, readSeq } },
  ]);
  (deps.notifier ?? getReceiptsNotifier()).changed(conversationId, readSeq, moved.member_count, deps.publisher);
  return { readSeq, moved: true };
}

export type MarkDeliveredResult = { moved: { conversationId: string; deliveredSeq: number }[] };

/**
 * Moves the user's delivered positions forward for a batch of conversations
 * in one statement. The whole batch is checked first: an unknown conversation,
 * one the user is not in, or a seq beyond its last message rejects the batch
 * and nothing is written.
 */
export async function markDelivered(
  db: DbOrTx,
  input: { userId: string; items: { conversationId: string; seq: number }[] },
  deps: ReadStateDeps,
): Promise<MarkDeliveredResult> {
  const { items } = parseOrBadRequest(markDeliveredInput, { items: input.items });
  const highest = new Map<string, number>();
  for (const item of items) highest.set(item.conversationId, Math.max(highest.get(item.conversationId) ?? 0, item.seq));
  const ids = [...highest.keys()];

  const checked = await queryRows<{
    id: string;
    last_seq: number | string;
    member_count: number;
    user_id: string | null;
    left_at: unknown;
  }>(
    db,
    sql`select c.id, c.last_seq, c.member_count, m.user_id, m.left_at
        from conversations c
        left join members m on m.conversation_id = c.id and m.user_id = ${input.userId}
        where c.id in (${sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`,
  );
  const byId = new Map(checked.map((row) => [row.id, row]));
  for (const [conversationId, seq] of highest) {
    const row = byId.get(conversationId);
    if (!row) throw new AppError("NOT_FOUND", `Conversation ${conversationId} not found`);
    if (!row.user_id || row.left_at) {
      throw new AppError("FORBIDDEN", `You are not a member of conversation ${conversationId}`);
    }
    assertWithinHistory(seq, Number(row.last_seq));
  }

  const values = sql.join(
    [...highest].map(([conversationId, seq]) => sql`(${conversationId}::uuid, ${seq}::bigint)`),
    sql`, `,
  );
  const moved = await queryRows<{ conversation_id: string; delivered_seq: number | string }>(
    db,
    // Rows are locked in conversation order first: two devices acknowledging
    // overlapping batches at once cannot deadlock on each other.
    sql`with v(conversation_id, seq) as (values ${values}),
        locked as (
          select m.conversation_id, v.seq
          from members m join v on v.conversation_id = m.conversation_id
          where m.user_id = ${input.userId} and m.left_at is null and m.delivered_seq < v.seq
          order by m.conversation_id
          for update of m
        )
        update members m
        set delivered_seq = greatest(m.delivered_seq, locked.seq)
        from locked
        where m.user_id = ${input.userId} and m.conversation_id = locked.conversation_id
          and m.delivered_seq < locked.seq
        returning m.conversation_id, m.delivered_seq`,
  );
  const notifier = deps.notifier ?? getReceiptsNotifier();
  const result = moved.map((row) => ({ conversationId: row.conversation_id, deliveredSeq: Number(row.delivered_seq) }));
  for (const { conversationId, deliveredSeq } of result) {
    notifier.changed(conversationId, deliveredSeq, byId.get(conversationId)?.member_count ?? 0, deps.publisher);
  }
  return { moved: result };
}

function assertWithinHistory(seq: number, lastSeq: number) {
  if (seq > lastSeq) {
    throw new AppError("BAD_REQUEST", `seq ${seq} is beyond the last message of the conversation (${lastSeq})`);
  }
}

/** Domain callers (workers, the bench) get the same clear BAD_REQUEST as the router's input schema. */
export function parseOrBadRequest<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError("BAD_REQUEST", parsed.error.issues[0]?.message ?? "Invalid input");
  return parsed.data;
}

export const markUnreadInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  seq: z.number("seq must be a number").int("seq must be a whole number").min(1, "seq must be 1 or more"),
});

/**
 * "Unread from here": moves the caller's read position back to seq - 1, the
 * only backward move, on purpose (never forward: marking unread reads nothing).
 * The seq must be a message of the caller's visible history. Every device of
 * the caller hears read.changed and shows the badge again.
 */
export async function markUnread(
  db: Db,
  input: { userId: string; conversationId: string; seq: number },
  deps: ReadStateDeps,
): Promise<MarkReadResult> {
  const { conversationId, seq } = parseOrBadRequest(markUnreadInput, input);
  const { userId } = input;
  const { member, conversation } = await requireMembership(db, conversationId, userId);
  assertWithinHistory(seq, conversation.lastSeq);
  if (seq <= member.joinedSeq) throw new AppError("BAD_REQUEST", `seq ${seq} is before you joined this conversation`);
  const channel = userChannel(userId);
  const [moved] = await queryRows<{ read_seq: number | string; outbox_id: number | string }>(
    db,
    sql`with moved as (
          update members m set read_seq = ${seq - 1}::bigint
          where m.conversation_id = ${conversationId}::uuid and m.user_id = ${userId}::uuid and m.left_at is null
            and m.read_seq > ${seq - 1}::bigint
          returning m.read_seq
        ), event as (
          insert into outbox (channels, event, payload, next_attempt_at)
          select array[${channel}], 'read.changed',
                 jsonb_build_object('conversationId', ${conversationId}::text, 'readSeq', moved.read_seq, 'back', true),
                 now() + make_interval(secs => ${REQUEST_LEASE_SECONDS})
          from moved
          returning id
        )
        select moved.read_seq, event.id as outbox_id from moved, event`,
  );
  if (!moved) return { readSeq: member.readSeq, moved: false };
  const readSeq = Number(moved.read_seq);
  await announce(db, deps.publisher, [
    {
      id: Number(moved.outbox_id),
      channels: [channel],
      event: "read.changed",
      payload: { conversationId, readSeq, back: true },
    },
  ]);
  (deps.notifier ?? getReceiptsNotifier()).changed(
    conversationId,
    conversation.lastSeq,
    conversation.memberCount,
    deps.publisher,
  );
  return { readSeq, moved: true };
}
