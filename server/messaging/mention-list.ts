import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";
import { MAX_MENTIONS_PAGE } from "@/lib/limits";
import { previewSql } from "./message-view";

export const listMentionsInput = z.object({
  cursor: z
    .string("cursor must come from a previous page")
    .regex(/^\d{1,19}$/, "cursor must come from a previous page")
    .refine((v) => BigInt(v) <= 9_223_372_036_854_775_807n, "cursor must come from a previous page")
    .nullish(),
  limit: z
    .number()
    .int()
    .min(1, `limit must be 1-${MAX_MENTIONS_PAGE}`)
    .max(MAX_MENTIONS_PAGE, `limit must be 1-${MAX_MENTIONS_PAGE}`)
    .default(30),
});

export type MentionItem = {
  conversationId: string;
  /** Group name; null for a DM (the sender is the peer). */
  conversationName: string | null;
  kind: "dm" | "group";
  seq: number;
  id: string;
  senderId: string | null;
  senderName: string | null;
  preview: string;
  createdAt: string;
  /** Mentioned as @all rather than by name. */
  all: boolean;
};

export type MentionsPage = { items: MentionItem[]; nextCursor: string | null };

/**
 * The caller's unread mentions across their current conversations, newest
 * first: @username rows after their read position, and @all messages someone
 * else sent after it; deleted messages are left out. Keyset on the time-ordered message id.
 */
export async function listMentions(
  db: DbOrTx,
  userId: string,
  input: z.input<typeof listMentionsInput>,
): Promise<MentionsPage> {
  const { cursor, limit } = listMentionsInput.parse(input);
  const before = cursor ? sql`and msg.id < ${cursor}::bigint` : sql``;
  const rows = await queryRows<{
    conversation_id: string;
    name: string | null;
    kind: "dm" | "group";
    seq: number | string;
    id: string;
    sender_id: string | null;
    sender_name: string | null;
    preview: string;
    created_at: string | Date;
    by_all: boolean;
  }>(
    db,
    sql`with mine as (
          select m.conversation_id, greatest(m.read_seq, m.joined_seq) as after
          from members m where m.user_id = ${userId}::uuid and m.left_at is null
        ), hits as (
          select mn.conversation_id, mn.seq, false as by_all
          from mentions mn join mine on mine.conversation_id = mn.conversation_id
          where mn.user_id = ${userId}::uuid and mn.seq > mine.after
          union all
          select msg.conversation_id, msg.seq, true as by_all
          from mine join messages msg on msg.conversation_id = mine.conversation_id and msg.mentions_all
          where msg.seq > mine.after and msg.sender_id is distinct from ${userId}::uuid
        ), distinct_hits as (
          select conversation_id, seq, bool_and(hits.by_all) as by_all from hits group by conversation_id, seq
        )
        select msg.conversation_id, c.name, c.kind, msg.seq, msg.id::text as id, msg.sender_id,
               u.display_name as sender_name, ${previewSql(sql`msg.body`)} as preview, msg.created_at, h.by_all
        from distinct_hits h
        join messages msg on msg.conversation_id = h.conversation_id and msg.seq = h.seq
        join conversations c on c.id = h.conversation_id
        left join users u on u.id = msg.sender_id
        where msg.deleted_at is null ${before}
        order by msg.id desc
        limit ${limit + 1}`,
  );
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => ({
      conversationId: r.conversation_id,
      conversationName: r.name,
      kind: r.kind,
      seq: Number(r.seq),
      id: r.id,
      senderId: r.sender_id,
      senderName: r.sender_name,
      preview: r.preview,
      createdAt: new Date(r.created_at).toISOString(),
      all: r.by_all,
    })),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}
