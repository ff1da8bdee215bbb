import { and, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { members, users } from "@/db/schema";
import type { MemberRole } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import type { PublicUser } from "../auth/accounts";
import { type NotificationState, notificationStateOf } from "../notifications/levels";
import type { Membership } from "./membership";

export type ConversationDetails = {
  id: string;
  kind: "dm" | "group";
  /** Group name, or the peer's display name for a DM. */
  title: string;
  name: string | null;
  avatarUrl: string | null;
  announcement: string | null;
  memberCount: number;
  lastSeq: number;
  version: number;
  createdAt: string;
  peer: PublicUser | null;
  me: {
    role: MemberRole;
    readSeq: number;
    deliveredSeq: number;
    joinedSeq: number;
    muted: boolean;
    notifications: NotificationState;
  };
};

/** A conversation as its member sees it; the caller has already checked membership. */
export async function describeConversation(
  db: DbOrTx,
  { conversation, member }: Membership,
): Promise<ConversationDetails> {
  let peer: PublicUser | null = null;
  if (conversation.kind === "dm") {
    const [row] = await db
      .select({ id: users.id, username: users.username, displayName: users.displayName, avatarUrl: users.avatarUrl })
      .from(members)
      .innerJoin(users, eq(users.id, members.userId))
      .where(and(eq(members.conversationId, conversation.id), ne(members.userId, member.userId)))
      .limit(1);
    peer = row ?? null;
  }
  const notifications = await notificationStateOf(db, member.userId, conversation.id);
  return {
    id: conversation.id,
    kind: conversation.kind,
    title: conversation.name ?? peer?.displayName ?? "Conversation",
    name: conversation.name,
    avatarUrl: conversation.avatarUrl ?? (conversation.kind === "dm" ? (peer?.avatarUrl ?? null) : null),
    announcement: conversation.announcement,
    memberCount: conversation.memberCount,
    lastSeq: conversation.lastSeq,
    version: conversation.version,
    createdAt: conversation.createdAt.toISOString(),
    peer,
    me: {
      role: member.role,
      readSeq: member.readSeq,
      deliveredSeq: member.deliveredSeq,
      joinedSeq: member.joinedSeq,
      muted: notifications.muted,
      notifications,
    },
  };
}

export const muteInput = z.object({ conversationId: z.uuid("conversationId must be a UUID"), muted: z.boolean() });
