import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { Db, DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { effectiveLevelSql, setNotifications } from "../notifications/levels";
import type { Publisher } from "../realtime/publisher";

// Unread is arithmetic on positions (DESIGN invariant 3): nothing is written
// per member when a message arrives. A member who left stops counting at left_seq.

/**
 * unread = messages in the member's window (max(read_seq, joined_seq, retained_from_seq), min(last_seq, left_seq)]
 * minus the tombstones in that window (messages retention removed are never unread). Deleting writes nothing per member:
 * the count reads only deleted rows of the window, along messages_deleted_idx,
 * so it is exact whenever the message was deleted and never negative.
 * Expects `c` (conversations) and `m` (members) in scope.
 */
export const unreadSql = sql`(with w as (
    select greatest(m.read_seq, m.joined_seq, c.retained_from_seq) as after, least(c.last_seq, coalesce(m.left_seq, c.last_seq)) as upto
  )
  select greatest(0, w.upto - w.after - (
    select count(*) from messages d
    where d.conversation_id = c.id and d.deleted_at is not null and d.seq > w.after and d.seq <= w.upto
  )) from w)`;

/**
 * Unread @mentions per conversation for one user: explicit mention rows after
 * the read position, plus @all messages after it that someone else sent.
 * One query for a whole page of conversations; missing ids have none.
 */
export async function mentionCounts(
  db: DbOrTx,
  userId: string,
  conversationIds: string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (conversationIds.length === 0) return counts;
  const rows = await queryRows<{ conversation_id: string; mentions: number }>(
    db,
    sql`select m.conversation_id, count(*)::int as mentions
        from members m
        cross join lateral (
          select mn.seq
          from mentions mn
          join messages msg on msg.conversation_id = mn.conversation_id and msg.seq = mn.seq
          where mn.user_id = m.user_id and mn.conversation_id = m.conversation_id
            and mn.seq > greatest(m.read_seq, m.joined_seq) and mn.seq <= coalesce(m.left_seq, mn.seq)
            and msg.deleted_at is null
          union
          select msg.seq
          from messages msg
          where msg.conversation_id = m.conversation_id and msg.mentions_all
            and msg.seq > greatest(m.read_seq, m.joined_seq) and msg.seq <= coalesce(m.left_seq, msg.seq)
            and msg.sender_id is distinct from m.user_id and msg.deleted_at is null
        ) unread_mentions
        where m.user_id = ${userId} and m.conversation_id in (${sql.join(
          conversationIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})
        group by m.conversation_id`,
  );
  for (const row of rows) counts.set(row.conversation_id, row.mentions);
  return counts;
}

export type ConversationUnread = {
  conversationId: string;
  lastSeq: number;
  readSeq: number;
  unread: number;
  mentions: number;
  muted: boolean;
};

/** One conversation's unread count and unread mentions for a member. */
export async function unreadOf(db: DbOrTx, userId: string, conversationId: string): Promise<ConversationUnread> {
  const [row] = await queryRows<{
    last_seq: number | string;
    read_seq: number | string;
    unread: number;
    muted: boolean;
  }>(
    db,
    sql`select c.last_seq, m.read_seq, ${effectiveLevelSql()} = 'none' as muted,
               ${unreadSql}::int as unread
        from members m join conversations c on c.id = m.conversation_id join users u on u.id = m.user_id
        where m.user_id = ${userId} and m.conversation_id = ${conversationId}`,
  );
  if (!row) throw new AppError("FORBIDDEN", "You are not a member of this conversation");
  const mentions = await mentionCounts(db, userId, [conversationId]);
  return {
    conversationId,
    lastSeq: Number(row.last_seq),
    readSeq: Number(row.read_seq),
    unread: row.unread,
    mentions: mentions.get(conversationId) ?? 0,
    muted: row.muted,
  };
}

export type UnreadTotal = {
  /** Unread messages in conversations that are not muted (the app badge). */
  unread: number;
  /** Conversations, not muted, with anything unread. */
  conversations: number;
};

/** The badge total over the user's current conversations, muted ones (level none) excluded: one query. */
export async function unreadTotal(db: DbOrTx, userId: string): Promise<UnreadTotal> {
  const [row] = await queryRows<{ unread: number; conversations: number }>(
    db,
    sql`select coalesce(sum(u.unread), 0)::int as unread, (count(*) filter (where u.unread > 0))::int as conversations
        from (
          select ${unreadSql} as unread
          from members m join conversations c on c.id = m.conversation_id join users u on u.id = m.user_id
          where m.user_id = ${userId} and m.left_at is null and ${effectiveLevelSql()} <> 'none'
        ) u`,
  );
  return { unread: row?.unread ?? 0, conversations: row?.conversations ?? 0 };
}

/** Muting is notification level none; unmuting goes back to the user's default. */
export async function muteConversation(
  db: Db,
  input: { userId: string; conversationId: string; muted: boolean },
  deps: { publisher: Publisher },
): Promise<{ muted: boolean }> {
  await setNotifications(
    db,
    input.userId,
    { conversationId: input.conversationId, level: input.muted ? "none" : "default" },
    deps,
  );
  return { muted: input.muted };
}
