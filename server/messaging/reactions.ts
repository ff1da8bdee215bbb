import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { Db, DbOrTx } from "@/db/types";
import { MAX_REACTION_CHARS, MAX_REACTION_EMOJI_PER_MESSAGE, MAX_REACTORS_PAGE } from "@/lib/limits";
import { isReactionEmoji } from "@/lib/reactions";
import type { PublicUser } from "../auth/accounts";
import { AppError } from "../errors";
import { commitAndAnnounce } from "../realtime/announce";
import type { MessageUpdate } from "../realtime/events";
import type { Publisher } from "../realtime/publisher";
import { requireMembership } from "./membership";
import { messageRef, openChange, stampChange, unchanged } from "./message-changes";

const emojiSchema = z
  .string("emoji must be a string")
  .max(MAX_REACTION_CHARS, `emoji must be at most ${MAX_REACTION_CHARS} characters`)
  .refine(isReactionEmoji, "emoji must be one emoji or a short name like :tada:");

export const reactInput = messageRef.extend({ emoji: emojiSchema, on: z.boolean("on must be true or false") });

export const reactionsInput = messageRef.extend({
  emoji: emojiSchema,
  cursor: z.uuid("cursor must come from a previous page").nullish(),
  limit: z
    .number()
    .int()
    .min(1, `limit must be 1-${MAX_REACTORS_PAGE}`)
    .max(MAX_REACTORS_PAGE, `limit must be 1-${MAX_REACTORS_PAGE}`)
    .default(20),
});

/**
 * Adds (on) or removes (off) one reaction of the caller's. The message keeps
 * per-emoji counts beside it, so history never counts reaction rows; at most
 * MAX_REACTION_EMOJI_PER_MESSAGE distinct emoji per message. Reacting twice,
 * or removing what is not there, changes nothing.
 */
export async function reactToMessage(
  db: Db,
  input: { userId: string; conversationId: string; seq: number; emoji: string; on: boolean },
  deps: { publisher: Publisher },
): Promise<MessageUpdate> {
  const { emoji } = reactInput.parse(input);
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const target = await openChange(tx, input);
    if (target.message.deletedAt) throw new AppError("BAD_REQUEST", "A deleted message cannot be reacted to");
    const counts = target.message.reactionCounts ?? {};
    if (input.on && !(emoji in counts) && Object.keys(counts).length >= MAX_REACTION_EMOJI_PER_MESSAGE) {
      throw new AppError(
        "BAD_REQUEST",
        `A message can carry at most ${MAX_REACTION_EMOJI_PER_MESSAGE} different emoji`,
      );
    }
    const where = sql`conversation_id = ${input.conversationId}::uuid and seq = ${input.seq}::bigint
                      and emoji = ${emoji} and user_id = ${input.userId}::uuid`;
    const touched = input.on
      ? await queryRows(
          tx,
          sql`insert into message_reactions (conversation_id, seq, emoji, user_id)
              values (${input.conversationId}::uuid, ${input.seq}::bigint, ${emoji}, ${input.userId}::uuid)
              on conflict do nothing returning 1`,
        )
      : await queryRows(tx, sql`delete from message_reactions where ${where} returning 1`);
    if (touched.length === 0) return unchanged(target);
    // The message row is locked by this update; openChange's conversation lock already serialises changes.
    const next = (counts[emoji] ?? 0) + (input.on ? 1 : -1);
    const rest = Object.fromEntries(Object.entries(counts).filter(([e]) => e !== emoji));
    const reactionCounts = next > 0 ? { ...rest, [emoji]: next } : rest;
    return stampChange(tx, target, {
      set: sql`reaction_counts = ${Object.keys(reactionCounts).length > 0 ? JSON.stringify(reactionCounts) : null}::jsonb`,
      reaction: { userId: input.userId, emoji, on: input.on },
    });
  });
}

export type ReactorsPage = { users: PublicUser[]; nextCursor: string | null };

/** Who reacted to a message with one emoji, a page at a time (keyset on user id). */
export async function listReactors(
  db: DbOrTx,
  userId: string,
  input: z.input<typeof reactionsInput>,
): Promise<ReactorsPage> {
  const { conversationId, seq, emoji, cursor, limit } = reactionsInput.parse(input);
  const { member } = await requireMembership(db, conversationId, userId);
  const [visible] = await queryRows<{ seq: number }>(
    db,
    sql`select seq from messages where conversation_id = ${conversationId}::uuid and seq = ${seq}::bigint
          and seq > ${member.joinedSeq}::bigint`,
  );
  if (!visible) throw new AppError("NOT_FOUND", `Message ${seq} not found in this conversation`);
  const rows = await queryRows<{ id: string; username: string; display_name: string; avatar_url: string | null }>(
    db,
    sql`select u.id, u.username, u.display_name, u.avatar_url
        from message_reactions r join users u on u.id = r.user_id
        where r.conversation_id = ${conversationId}::uuid and r.seq = ${seq}::bigint and r.emoji = ${emoji}
          ${cursor ? sql`and r.user_id > ${cursor}::uuid` : sql``}
        order by r.user_id
        limit ${limit + 1}`,
  );
  const page = rows.slice(0, limit);
  return {
    users: page.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name, avatarUrl: r.avatar_url })),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}
