import { and, eq, sql } from "drizzle-orm";
import { conversations, type MessageKind, members, messages, users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { conversationChannel } from "../realtime/channels";
import type { WireMessage } from "../realtime/events";
import { enqueueEvent } from "../realtime/announce";
import { nextMessageId } from "./snowflake";

export type AppendInput = {
  conversationId: string;
  /** null for system messages with no actor. */
  senderId: string | null;
  kind: MessageKind;
  body: string;
  meta?: Record<string, unknown> | null;
  clientMsgId?: string | null;
  mentionsAll?: boolean;
};

export type AppendResult = { message: WireMessage; outboxId: number };

const PREVIEW_CHARS = 140;

/** The conversation list's one-line preview of a body. */
export const previewOf = (body: string) =>
  body.length > PREVIEW_CHARS ? `${body.slice(0, PREVIEW_CHARS - 1)}…` : body;

/**
 * Appends one message to a conversation inside the caller's transaction:
 * the conversation row is bumped first (its row lock serializes concurrent
 * senders, so seq is gapless), then the message row, the sender's read
 * position, and one outbox row. A constant number of rows whatever the
 * group size (DESIGN invariant 1); publish the outbox row after commit.
 */
export async function appendMessage(tx: DbOrTx, input: AppendInput): Promise<AppendResult> {
  const preview = previewOf(input.body);
  const [bumped] = await tx
    .update(conversations)
    .set({
      lastSeq: sql`${conversations.lastSeq} + 1`,
      lastMessageAt: sql`now()`,
      lastMessagePreview: preview,
      lastMessageSenderId: input.senderId,
    })
    .where(eq(conversations.id, input.conversationId))
    .returning({ seq: conversations.lastSeq });
  if (!bumped) throw new AppError("NOT_FOUND", "Conversation not found");

  const [row] = await tx
    .insert(messages)
    .values({
      conversationId: input.conversationId,
      seq: bumped.seq,
      id: nextMessageId(),
      senderId: input.senderId,
      clientMsgId: input.clientMsgId ?? null,
      kind: input.kind,
      body: input.body,
      meta: input.meta ?? null,
      mentionsAll: input.mentionsAll ?? false,
    })
    .returning();

  let senderName: string | null = null;
  let senderAvatarUrl: string | null = null;
  if (input.senderId) {
    // Sending reads your own messages: the sender's unread stays zero (invariant 3).
    await tx
      .update(members)
      .set({
        readSeq: sql`greatest(${members.readSeq}, ${bumped.seq})`,
        deliveredSeq: sql`greatest(${members.deliveredSeq}, ${bumped.seq})`,
      })
      .where(and(eq(members.conversationId, input.conversationId), eq(members.userId, input.senderId)));
    const [sender] = await tx
      .select({ displayName: users.displayName, avatarUrl: users.avatarUrl })
      .from(users)
      .where(eq(users.id, input.senderId));
    senderName = sender?.displayName ?? null;
    senderAvatarUrl = sender?.avatarUrl ?? null;
  }

  const message = toWireMessage(row, senderName, senderAvatarUrl);
  const outboxId = await enqueueEvent(tx, conversationChannel(input.conversationId), "message.new", message);
  return { message, outboxId };
}

export function toWireMessage(
  row: typeof messages.$inferSelect,
  senderName: string | null,
  senderAvatarUrl: string | null,
): WireMessage {
  return {
    id: row.id.toString(),
    conversationId: row.conversationId,
    seq: row.seq,
    senderId: row.senderId,
    senderName,
    senderAvatarUrl,
    clientMsgId: row.clientMsgId,
    kind: row.kind,
    body: row.body,
    meta: row.meta ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
