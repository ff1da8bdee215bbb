import { and, eq } from "drizzle-orm";
import { conversations, type Conversation, type Member, members } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { AppError } from "../errors";

export type Membership = { member: Member; conversation: Conversation };

/**
 * The caller's membership of a conversation. Unknown conversation: NOT_FOUND;
 * not a member (or left, unless allowLeft): FORBIDDEN.
 */
export async function requireMembership(
  db: DbOrTx,
  conversationId: string,
  userId: string,
  options: { allowLeft?: boolean } = {},
): Promise<Membership> {
  const [row] = await db
    .select({ conversation: conversations, member: members })
    .from(conversations)
    .leftJoin(members, and(eq(members.conversationId, conversations.id), eq(members.userId, userId)))
    .where(eq(conversations.id, conversationId))
    .limit(1);
  if (!row) throw new AppError("NOT_FOUND", "Conversation not found");
  if (!row.member || (row.member.leftAt && !options.allowLeft)) {
    throw new AppError("FORBIDDEN", "You are not a member of this conversation");
  }
  return { conversation: row.conversation, member: row.member };
}

/** True when the user is a current member (channel auth, batch checks). */
export async function isCurrentMember(db: DbOrTx, conversationId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ leftAt: members.leftAt })
    .from(members)
    .where(and(eq(members.conversationId, conversationId), eq(members.userId, userId)))
    .limit(1);
  return Boolean(row && !row.leftAt);
}
