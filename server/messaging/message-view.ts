import { type SQL, sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";
import type { MessageKind } from "@/db/schema";
import { attachmentsOf } from "../files/attachments";
import type { ReactionSummary, ReplyPreview, WireAttachment, WireLinkPreview, WireMessage } from "../realtime/events";

/** A message as a member sees it in history and message.changes: every optional field filled. */
export type MessageView = WireMessage & {
  editedAt: string | null;
  deletedAt: string | null;
  reactions: ReactionSummary[];
  replyTo: ReplyPreview | null;
  linkPreview: WireLinkPreview | null;
  attachments: WireAttachment[];
};

/** The conversation list's preview of a body, in SQL (the one-statement send computes it too). */
export const previewSql = (body: SQL) =>
  sql`case when char_length(${body}) > 140 then left(${body}, 139) || '…' else ${body} end`;

type Row = {
  id: string;
  conversation_id: string;
  seq: number | string;
  sender_id: string | null;
  sender_name: string | null;
  sender_avatar_url: string | null;
  client_msg_id: string | null;
  kind: MessageKind;
  body: string;
  meta: Record<string, unknown> | null;
  created_at: string | Date;
  edited_at: string | Date | null;
  deleted_at: string | Date | null;
  reaction_counts: Record<string, number> | string | null;
  change_seq: number | string;
  link_preview: WireLinkPreview | string | null;
  reply_seq: number | string | null;
  reply_sender_name: string | null;
  reply_preview: string | null;
  reply_deleted: boolean | null;
  reply_visible: boolean | null;
};

const iso = (v: string | Date | null) => (v === null ? null : new Date(v).toISOString());

/** Counts as stored, most used first; ties keep a stable emoji order. */
export function reactionList(counts: Record<string, number> | null): { emoji: string; count: number }[] {
  return Object.entries(counts ?? {})
    .filter(([, count]) => count > 0)
    .map(([emoji, count]) => ({ emoji, count }))
    .sort((a, b) => b.count - a.count || (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0));
}

/**
 * Messages of one conversation as `viewerId` sees them: reactions with the
 * viewer's own flags (one indexed query for the page), the replied-to
 * message's preview (a tombstone when deleted; nothing when it lies before
 * the viewer joined). `where` is the caller's visibility window.
 */
export async function loadMessageViews(
  db: DbOrTx,
  input: { viewerId: string; conversationId: string; joinedSeq: number; where: SQL; orderBy: SQL; limit: number },
): Promise<(MessageView & { changeSeq: number })[]> {
  const rows = await queryRows<Row>(
    db,
    sql`select m.id::text as id, m.conversation_id, m.seq, m.sender_id, u.display_name as sender_name,
               u.avatar_url as sender_avatar_url, m.client_msg_id, m.kind, m.body, m.meta, m.created_at, m.edited_at,
               m.deleted_at, m.reaction_counts, m.change_seq, m.link_preview,
               r.seq as reply_seq, r.seq > ${input.joinedSeq}::bigint as reply_visible,
               r.deleted_at is not null as reply_deleted, ru.display_name as reply_sender_name,
               ${previewSql(sql`r.body`)} as reply_preview
        from messages m
        left join users u on u.id = m.sender_id
        left join messages r on r.conversation_id = m.conversation_id and r.seq = m.reply_to_seq
        left join users ru on ru.id = r.sender_id
        where m.conversation_id = ${input.conversationId}::uuid and ${input.where}
        order by ${input.orderBy}
        limit ${input.limit}`,
  );
  const reacted = rows.filter((r) => r.reaction_counts !== null).map((r) => Number(r.seq));
  const mine = new Set<string>();
  if (reacted.length > 0) {
    const own = await queryRows<{ seq: number | string; emoji: string }>(
      db,
      sql`select seq, emoji from message_reactions
          where conversation_id = ${input.conversationId}::uuid and user_id = ${input.viewerId}::uuid
            and seq = any(${`{${reacted.join(",")}}`}::bigint[])`,
    );
    for (const r of own) mine.add(`${Number(r.seq)} ${r.emoji}`);
  }
  // Files of the page in one query; a tombstone shows none.
  const files = await attachmentsOf(
    db,
    rows.filter((r) => r.kind === "text" && r.deleted_at === null).map((r) => BigInt(r.id)),
  );
  return rows.map((r) => {
    const seq = Number(r.seq);
    const counts = typeof r.reaction_counts === "string" ? JSON.parse(r.reaction_counts) : r.reaction_counts;
    return {
      id: r.id,
      conversationId: r.conversation_id,
      seq,
      senderId: r.sender_id,
      senderName: r.sender_name,
      senderAvatarUrl: r.sender_avatar_url,
      clientMsgId: r.client_msg_id,
      kind: r.kind,
      body: r.body,
      meta: r.meta,
      createdAt: new Date(r.created_at).toISOString(),
      editedAt: iso(r.edited_at),
      deletedAt: iso(r.deleted_at),
      reactions: reactionList(counts).map((x) => ({ ...x, me: mine.has(`${seq} ${x.emoji}`) })),
      replyTo: replyOf(r),
      linkPreview:
        r.deleted_at !== null
          ? null
          : typeof r.link_preview === "string"
            ? JSON.parse(r.link_preview)
            : (r.link_preview ?? null),
      attachments: files.get(r.id) ?? [],
      changeSeq: Number(r.change_seq),
    };
  });
}

function replyOf(r: Row): ReplyPreview | null {
  if (r.reply_seq === null) return null;
  const seq = Number(r.reply_seq);
  // An original from before the viewer joined stays out of their sight, like the rest of that history.
  if (!r.reply_visible) return { seq, senderName: null, preview: null, deleted: false };
  if (r.reply_deleted) return { seq, senderName: null, preview: null, deleted: true };
  return { seq, senderName: r.reply_sender_name, preview: r.reply_preview, deleted: false };
}
