import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/types";
import { requireMembership } from "./membership";
import { loadMessageViews, type MessageView } from "./message-view";

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
  messages: MessageView[];
  /** More messages exist beyond this page in the same direction. */
  hasMore: boolean;
  /**
   * The conversation's change count, read before the page: every edit, delete
   * and reaction up to it shows in the page; pass it to message.changes to catch up.
   */
  changeSeq: number;
  /** Messages up to this seq were removed by retention (0: none the member could see). */
  removedThroughSeq: number;
};

/**
 * A page of a conversation's history as the member may see it: never at or
 * before their joined_seq, and for a member who left, never after left_seq.
 */
export async function readHistory(db: DbOrTx, userId: string, input: HistoryInput): Promise<HistoryPage> {
  const { conversationId, beforeSeq, afterSeq, limit = 50 } = historyInput.parse(input);
  const { member, conversation } = await requireMembership(db, conversationId, userId, { allowLeft: true });

  const visible: SQL[] = [sql`m.seq > ${member.joinedSeq}::bigint`];
  if (member.leftAt) visible.push(sql`m.seq <= ${member.leftSeq ?? member.joinedSeq}::bigint`);
  const forward = afterSeq !== undefined;
  if (forward) visible.push(sql`m.seq > ${afterSeq}::bigint`);
  else if (beforeSeq !== undefined) visible.push(sql`m.seq < ${beforeSeq}::bigint`);

  const rows = await loadMessageViews(db, {
    viewerId: userId,
    conversationId,
    joinedSeq: member.joinedSeq,
    where: sql.join(visible, sql` and `),
    orderBy: forward ? sql`m.seq asc` : sql`m.seq desc`,
    limit: limit + 1,
  });

  const page = rows.slice(0, limit).map(({ changeSeq: _, ...message }) => message);
  return {
    messages: page,
    hasMore: rows.length > limit,
    changeSeq: conversation.changeSeq,
    removedThroughSeq: conversation.retainedFromSeq > member.joinedSeq ? conversation.retainedFromSeq : 0,
  };
}
