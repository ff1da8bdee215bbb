import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "@/db/types";
import { AppError } from "../errors";
import { env } from "../env";
import { commitAndAnnounce } from "../realtime/announce";
import type { MessageUpdate } from "../realtime/events";
import type { Publisher } from "../realtime/publisher";
import { mayMentionAll, mentionAllRefusal, parseMentions } from "./mentions";
import { openChange, openModeration, stampChange, unchanged } from "./message-changes";
import { applyBlockedWords, type BlockedWords, blockedWordsFromEnv, normalizeBody } from "./message-rules";

export const editMessageInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  seq: z.number("seq must be a number").int("seq must be a whole number").min(1, "seq must be 1 or more"),
  // Same rules as send, applied by normalizeBody.
  body: z.string("body must be a string"),
});

export const deleteMessageInput = editMessageInput.omit({ body: true });

export type MessageActionDeps = { publisher: Publisher; blockedWords?: BlockedWords; mentionAllMaxMembers?: number };

/**
 * The author rewrites their own text message: same body rules as send, its
 * @mentions recounted (rows bounded by the body), editedAt set, one
 * message.updated. A deleted message stays deleted. An unchanged body writes nothing and answers the current state.
 */
export async function editMessage(
  db: Db,
  input: { userId: string; conversationId: string; seq: number; body: string },
  deps: MessageActionDeps,
): Promise<MessageUpdate> {
  const body = applyBlockedWords(normalizeBody(input.body), deps.blockedWords ?? blockedWordsFromEnv());
  const mentioned = parseMentions(body);
  const maxMembers = deps.mentionAllMaxMembers ?? env.MENTION_ALL_MAX_MEMBERS;
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const target = await openChange(tx, input);
    if (target.message.senderId !== input.userId) {
      throw new AppError("FORBIDDEN", "Only the author can edit a message");
    }
    if (target.message.kind !== "text") throw new AppError("BAD_REQUEST", "Only text messages can be edited");
    if (target.message.deletedAt) throw new AppError("BAD_REQUEST", "A deleted message cannot be edited");
    if (mentioned.all && !mayMentionAll(target.conversation, target.member.role, maxMembers)) {
      throw new AppError("FORBIDDEN", mentionAllRefusal(maxMembers));
    }
    // A retried edit, or Enter on an untouched draft.
    if (body === target.message.body) return unchanged(target);
    await tx.execute(
      sql`delete from mentions where conversation_id = ${input.conversationId}::uuid and seq = ${input.seq}::bigint`,
    );
    if (mentioned.usernames.length > 0) {
      await tx.execute(
        sql`insert into mentions (user_id, conversation_id, seq)
            select u.id, ${input.conversationId}::uuid, ${input.seq}::bigint
            from users u join members mm on mm.user_id = u.id and mm.conversation_id = ${input.conversationId}::uuid
            where lower(u.username) = any(${`{${mentioned.usernames.join(",")}}`}::text[])
              and mm.left_at is null and u.id <> ${input.userId}::uuid
            on conflict do nothing`,
      );
    }
    return stampChange(tx, target, {
      set: sql`body = ${body}, mentions_all = ${mentioned.all}, edited_at = now()`,
      preview: { body },
    });
  });
}

/**
 * Takes a message back for everyone: the author, or an owner/admin of the
 * group. A tombstone: body, reactions and mentions are gone, deletedAt is
 * set, the row and its seq stay (unread leaves it out exactly). Deleting a
 * deleted message changes nothing and answers its state again.
 */
export async function deleteMessage(
  db: Db,
  input: { userId: string; conversationId: string; seq: number },
  deps: MessageActionDeps,
): Promise<MessageUpdate> {
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const target = await openChange(tx, input);
    const moderator = target.conversation.kind === "group" && target.member.role !== "member";
    if (target.message.senderId !== input.userId && !moderator) {
      throw new AppError("FORBIDDEN", "Only the author or a group owner or admin can delete a message");
    }
    return tombstone(tx, target);
  });
}

/**
 * A site admin deletes any message (moderation), member of its conversation
 * or not: the same tombstone as an author's or a group admin's delete.
 */
export async function moderateDelete(
  db: Db,
  input: { conversationId: string; seq: number },
  deps: MessageActionDeps,
): Promise<{ seq: number; changeSeq: number; deletedAt: string | null }> {
  const update = await commitAndAnnounce(db, deps.publisher, async (tx) =>
    tombstone(tx, await openModeration(tx, input)),
  );
  // The moderator is told it is done, not what the conversation holds.
  return { seq: update.seq, changeSeq: update.changeSeq, deletedAt: update.deletedAt };
}

/** Body, reactions and mentions gone for everyone; the row and its seq stay. A second delete changes nothing. */
async function tombstone(tx: Tx, target: Parameters<typeof unchanged>[0]): Promise<MessageUpdate> {
  if (target.message.kind !== "text") throw new AppError("BAD_REQUEST", "System messages cannot be deleted");
  if (target.message.deletedAt) return unchanged(target);
  const where = sql`conversation_id = ${target.conversation.id}::uuid and seq = ${target.message.seq}::bigint`;
  await tx.execute(sql`delete from message_reactions where ${where}`);
  await tx.execute(sql`delete from mentions where ${where}`);
  return stampChange(tx, target, {
    set: sql`body = '', meta = null, mentions_all = false, reaction_counts = null, edited_at = null, deleted_at = now()`,
    preview: null,
  });
}
