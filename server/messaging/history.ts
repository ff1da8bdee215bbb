import { and, asc, desc, eq, gt, lt, lte, type SQL } from "drizzle-orm";
import { z } from "zod";
import { messages, users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import type { WireMessage } from "../realtime/events";
import { toWireMessage } from "./append";
import { requireMembership } from "./membership";

const seq = z.number().int().min(0);

export const historyInput = z
  .object({
    conversationId: z.uuid("conversationId must be a UUID"),
    beforeSeq: seq.optional(),
    afterSeq: seq.optional(),
    limit: z.number().int().min(1, "limit must be 1-100").max(100, "limit must be 1-100").default(50),
  })
  .refine((v) => v.beforeSeq === undefined || v.afterSeq === undefined, "Give beforeSeq or afterSeq, not both");

export type HistoryInput = z.input<typeof historyInput>;

export type HistoryPage = {
  /** Newest first before a seq (scrolling back); oldest first after a seq (filling a gap). */
  messages: WireMessage[];
  /** More messages exist beyond this page in the same direction. */
  hasMore: boolean;
};

/**
 * A page of a conversation's history as the member may see it: never at or
 * before their joined_seq, and for a member who left, never after left_seq.
 */
export async function readHistory(db: DbOrTx, userId: string, input: HistoryInput): Promise<HistoryPage> {
  const { conversationId, beforeSeq, afterSeq, limit = 50 } = historyInput.parse(input);
  const { member } = await requireMembership(db, conversationId, userId, { allowLeft: true });

  const visible: SQL[] = [eq(messages.conversationId, conversationId), gt(messages.seq, member.joinedSeq)];
  if (member.leftAt) visible.push(lte(messages.seq, member.leftSeq ?? member.joinedSeq));
  const forward = afterSeq !== undefined;
  if (forward) visible.push(gt(messages.seq, afterSeq));
  else if (beforeSeq !== undefined) visible.push(lt(messages.seq, beforeSeq));

  const rows = await db
    .select({ message: messages, senderName: users.displayName, senderAvatarUrl: users.avatarUrl })
    .from(messages)
    .leftJoin(users, eq(users.id, messages.senderId))
    .where(and(...visible))
    .orderBy(forward ? asc(messages.seq) : desc(messages.seq))
    .limit(limit + 1);

  const page = rows.slice(0, limit);
  return {
    messages: page.map((r) => toWireMessage(r.message, r.senderName, r.senderAvatarUrl)),
    hasMore: rows.length > limit,
  };
}
