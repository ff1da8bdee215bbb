import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { MessageKind } from "@/db/schema";
import type { DbOrTx, Tx } from "@/db/types";
import { MAX_CHANGES_PAGE } from "@/lib/limits";
import { AppError } from "../errors";
import { enqueueEvent } from "../realtime/announce";
import { conversationChannel } from "../realtime/channels";
import type { MessageUpdate, RealtimeEvents } from "../realtime/events";
import { type Membership, requireMembership } from "./membership";
import { previewOf } from "./append";
import { loadMessageViews, type MessageView, reactionList } from "./message-view";

const seqSchema = z.number("seq must be a number").int("seq must be a whole number").min(1, "seq must be 1 or more");

export const messageRef = z.object({ conversationId: z.uuid("conversationId must be a UUID"), seq: seqSchema });

export type ChangeTarget = Membership & {
  message: {
    seq: number;
    senderId: string | null;
    kind: MessageKind;
    body: string;
    editedAt: Date | null;
    deletedAt: Date | null;
    reactionCounts: Record<string, number> | null;
    changeSeq: number;
  };
};

/**
 * Opens a change to one old message inside the caller's transaction: the
 * caller must be a current member (NOT_FOUND / FORBIDDEN otherwise), the
 * conversation row is locked first, as send locks it, so change counts are
 * handed out in commit order and a catch-up cursor never skips one; the
 * message must lie in the caller's visible history (NOT_FOUND otherwise).
 */
export async function openChange(
  tx: Tx,
  input: { userId: string; conversationId: string; seq: number },
): Promise<ChangeTarget> {
  const membership = await requireMembership(tx, input.conversationId, input.userId);
  const message = await lockedMessage(tx, input.conversationId, input.seq, membership.member.joinedSeq);
  return { ...membership, message };
}

/**
 * A site admin's change (moderation): any message of any conversation, member
 * or not; the conversation row is locked first, as for every change.
 */
export async function openModeration(
  tx: Tx,
  input: { conversationId: string; seq: number },
): Promise<Pick<ChangeTarget, "message"> & { conversation: { id: string } }> {
  const [conversation] = await queryRows<{ id: string }>(
    tx,
    sql`select id from conversations where id = ${input.conversationId}::uuid`,
  );
  if (!conversation) throw new AppError("NOT_FOUND", "Conversation not found");
  return { conversation, message: await lockedMessage(tx, input.conversationId, input.seq, 0) };
}

/** Locks the conversation row, then reads the message (after `afterSeq`, the caller's history). */
async function lockedMessage(
  tx: Tx,
  conversationId: string,
  seq: number,
  afterSeq: number,
): Promise<ChangeTarget["message"]> {
  const input = { conversationId, seq };
  await tx.execute(sql`select 1 from conversations where id = ${input.conversationId}::uuid for update`);
  const [row] = await queryRows<{
    seq: number | string;
    sender_id: string | null;
    kind: MessageKind;
    body: string;
    edited_at: string | Date | null;
    deleted_at: string | Date | null;
    reaction_counts: Record<string, number> | string | null;
    change_seq: number | string;
  }>(
    tx,
    sql`select seq, sender_id, kind, body, edited_at, deleted_at, reaction_counts, change_seq from messages
        where conversation_id = ${input.conversationId}::uuid and seq = ${input.seq}::bigint
          and seq > ${afterSeq}::bigint`,
  );
  if (!row) throw new AppError("NOT_FOUND", `Message ${input.seq} not found in this conversation`);
  return {
    seq: Number(row.seq),
    senderId: row.sender_id,
    kind: row.kind,
    body: row.body,
    editedAt: row.edited_at === null ? null : new Date(row.edited_at),
    deletedAt: row.deleted_at === null ? null : new Date(row.deleted_at),
    reactionCounts: typeof row.reaction_counts === "string" ? JSON.parse(row.reaction_counts) : row.reaction_counts,
    changeSeq: Number(row.change_seq),
  };
}

/** The message's state as openChange found it: the answer of a change that changes nothing (a retry). */
export function unchanged(target: Pick<ChangeTarget, "message"> & { conversation: { id: string } }): MessageUpdate {
  const { message } = target;
  return {
    conversationId: target.conversation.id,
    seq: message.seq,
    changeSeq: message.changeSeq,
    body: message.body,
    editedAt: message.editedAt?.toISOString() ?? null,
    deletedAt: message.deletedAt?.toISOString() ?? null,
    reactions: reactionList(message.reactionCounts),
    reaction: null,
  };
}

/**
 * Records a change opened by openChange: the conversation's change count goes
 * up by one, the message is stamped with it along with `set`, the list
 * preview follows when it is the last message, and one message.updated is
 * enqueued. Three rows (conversation, message, outbox) whatever the group size.
 */
export async function stampChange(
  tx: Tx,
  // A change by the system (a link preview) names only the conversation (locked first) and message.
  target: { conversation: { id: string }; message: { seq: number } },
  change: {
    set: SQL;
    preview?: { body: string } | null;
    reaction?: MessageUpdate["reaction"];
    linkPreview?: MessageUpdate["linkPreview"];
  },
): Promise<MessageUpdate> {
  const conversationId = target.conversation.id;
  const seq = target.message.seq;
  // One update of the conversation row: a statement may not update a row twice.
  const preview =
    change.preview === undefined
      ? sql``
      : sql`, last_message_preview = case when c.last_seq = ${seq}::bigint
              then ${change.preview === null ? null : previewOf(change.preview.body)} else c.last_message_preview end`;
  const [row] = await queryRows<{
    change_seq: number | string;
    body: string;
    edited_at: string | Date | null;
    deleted_at: string | Date | null;
    reaction_counts: Record<string, number> | string | null;
    hidden_from_some: boolean;
  }>(
    tx,
    sql`with counted as (
          update conversations c set change_seq = c.change_seq + 1 ${preview}
          where c.id = ${conversationId}::uuid
          returning c.change_seq
        ), hidden as (
          -- A current member whose history starts after this message must not read it in the event.
          select exists (select 1 from members lm where lm.conversation_id = ${conversationId}::uuid
                         and lm.joined_seq >= ${seq}::bigint and lm.left_at is null) as h
        )
        update messages m set ${change.set}, change_seq = counted.change_seq
        from counted, hidden
        where m.conversation_id = ${conversationId}::uuid and m.seq = ${seq}::bigint
        returning m.body, m.edited_at, m.deleted_at, m.reaction_counts, m.change_seq, hidden.h as hidden_from_some`,
  );
  const counts = typeof row.reaction_counts === "string" ? JSON.parse(row.reaction_counts) : row.reaction_counts;
  const update: MessageUpdate = {
    conversationId,
    seq: target.message.seq,
    changeSeq: Number(row.change_seq),
    body: row.body,
    editedAt: row.edited_at === null ? null : new Date(row.edited_at).toISOString(),
    deletedAt: row.deleted_at === null ? null : new Date(row.deleted_at).toISOString(),
    reactions: reactionList(counts),
    reaction: change.reaction ?? null,
    ...(change.linkPreview !== undefined ? { linkPreview: change.linkPreview } : {}),
  };
  // Ids only when some member may not see this message: each client reads it through message.changes,
  // which applies its own window.
  const event: RealtimeEvents["message.updated"] = row.hidden_from_some
    ? { conversationId, seq, changeSeq: update.changeSeq, ref: true }
    : update;
  await enqueueEvent(tx, conversationChannel(conversationId), "message.updated", event);
  return update;
}

export const messageChangesInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  since: z.number("since must be a number").int("since must be a whole number").min(0, "since must be 0 or more"),
  limit: z
    .number()
    .int()
    .min(1, `limit must be 1-${MAX_CHANGES_PAGE}`)
    .max(MAX_CHANGES_PAGE, `limit must be 1-${MAX_CHANGES_PAGE}`)
    .default(100),
});

export type MessageChanges = {
  /** Messages changed after `since`, in the order they changed, as the caller sees them now. */
  messages: MessageView[];
  /** Pass as `since` next time. */
  cursor: number;
  /** More changes wait beyond this page: call again with `cursor`. */
  hasMore: boolean;
};

/**
 * Catch-up of edits, deletes and reactions after a reconnect: O(1) when the
 * conversation's change count is not past `since`, else O(changed) along
 * messages_changes_idx. Current members only.
 */
export async function messageChanges(
  db: DbOrTx,
  userId: string,
  input: z.input<typeof messageChangesInput>,
): Promise<MessageChanges> {
  const { conversationId, since, limit } = messageChangesInput.parse(input);
  const { conversation, member } = await requireMembership(db, conversationId, userId);
  if (since > conversation.changeSeq) {
    throw new AppError(
      "BAD_REQUEST",
      `since ${since} is beyond this conversation's changes (${conversation.changeSeq})`,
    );
  }
  if (since === conversation.changeSeq) return { messages: [], cursor: since, hasMore: false };
  const rows = await loadMessageViews(db, {
    viewerId: userId,
    conversationId,
    joinedSeq: member.joinedSeq,
    where: sql`m.change_seq > ${since}::bigint and m.seq > ${member.joinedSeq}::bigint`,
    orderBy: sql`m.change_seq asc`,
    limit: limit + 1,
  });
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  // A change committed after the conversation was read may already be in the page: the cursor covers it.
  const cursor = hasMore
    ? (page.at(-1)?.changeSeq ?? since)
    : Math.max(conversation.changeSeq, page.at(-1)?.changeSeq ?? 0);
  return { messages: page.map(({ changeSeq: _, ...m }) => m), cursor, hasMore };
}
