import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { messages } from "@/db/schema";
import type { Db, DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { publishOutboxRows } from "../realtime/outbox";
import { getPublisher, type Publisher } from "../realtime/publisher";
import { appendMessage } from "./append";
import { requireMembership } from "./membership";
import { recordMentions, resolveMentions } from "./mentions";
import {
  applyBlockedWords,
  type BlockedWords,
  blockedWordsFromEnv,
  getSendRateLimiter,
  normalizeBody,
  type SendRateLimiter,
} from "./message-rules";

export const sendMessageInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  clientMsgId: z
    .string("clientMsgId must be a string")
    .min(1, "clientMsgId cannot be empty")
    .max(64, "clientMsgId must be at most 64 characters")
    .regex(/^[A-Za-z0-9_.:-]+$/, "clientMsgId may contain only letters, digits and _ . : -"),
  // Length and content rules live in normalizeBody so every caller gets them.
  body: z.string("body must be a string"),
});

export type SendMessageInput = z.infer<typeof sendMessageInput>;

export type SentMessage = {
  id: string;
  seq: number;
  createdAt: string;
  /** As stored: trimmed, and masked when blocked words are masked. */
  body: string;
};

export type SendDeps = {
  publisher?: Publisher;
  rateLimiter?: SendRateLimiter;
  blockedWords?: BlockedWords;
};

/**
 * Sends a text message: validate, one transaction (message, conversation,
 * sender's read position, outbox row), publish after commit. A resend with
 * the same clientMsgId returns the original and writes nothing.
 */
export async function sendMessage(
  db: Db,
  senderId: string,
  input: SendMessageInput,
  deps: SendDeps = {},
): Promise<SentMessage> {
  const normalized = normalizeBody(input.body);
  // Membership is checked inside the transaction (and first by the router's memberProcedure);
  // the resend lookup is scoped to the sender, so it reveals nothing about the conversation.
  const original = await findByClientMsgId(db, senderId, input.clientMsgId);
  if (original) return sameConversationOrConflict(original, input.conversationId);

  const body = applyBlockedWords(normalized, deps.blockedWords ?? blockedWordsFromEnv());
  await (deps.rateLimiter ?? getSendRateLimiter()).consume(senderId);

  let appended: Awaited<ReturnType<typeof appendMessage>>;
  try {
    appended = await db.transaction(async (tx) => {
      // Under the transaction: a member removed meanwhile cannot send.
      await requireMembership(tx, input.conversationId, senderId);

      // @all writes one flag; @username writes a row per mentioned member, bounded by the body.
      const mentioned = await resolveMentions(tx, input.conversationId, body, senderId);
      const result = await appendMessage(tx, {
        conversationId: input.conversationId,
        senderId,
        kind: "text",
        body,
        clientMsgId: input.clientMsgId,
        mentionsAll: mentioned.mentionsAll,
      });
      await recordMentions(tx, {
        conversationId: input.conversationId,
        seq: result.message.seq,
        userIds: mentioned.userIds,
      });
      return result;
    });
  } catch (error) {
    // A concurrent resend won the unique (sender, clientMsgId): ours rolled back, seq untouched.
    if (!isUniqueViolation(error, "messages_sender_client_msg_uq")) throw error;
    const winner = await findByClientMsgId(db, senderId, input.clientMsgId);
    if (!winner) throw error;
    return sameConversationOrConflict(winner, input.conversationId);
  }

  await publishOutboxRows(db, deps.publisher ?? getPublisher(), [appended.outboxId]);
  const { message } = appended;
  return { id: message.id, seq: message.seq, createdAt: message.createdAt, body: message.body };
}

type Original = SentMessage & { conversationId: string };

async function findByClientMsgId(db: DbOrTx, senderId: string, clientMsgId: string): Promise<Original | null> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.senderId, senderId), eq(messages.clientMsgId, clientMsgId)))
    .limit(1);
  if (!row) return null;
  return {
    id: row.id.toString(),
    seq: row.seq,
    createdAt: row.createdAt.toISOString(),
    body: row.body,
    conversationId: row.conversationId,
  };
}

function sameConversationOrConflict(original: Original, conversationId: string): SentMessage {
  if (original.conversationId !== conversationId) {
    throw new AppError("CONFLICT", "This clientMsgId was already used for a message in another conversation");
  }
  const { conversationId: _, ...sent } = original;
  return sent;
}

/** Postgres unique violation (23505) on both drivers, optionally on one constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const candidate = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown; message?: unknown };
    if (candidate.code === "23505") {
      if (!constraint) return true;
      const name = candidate.constraint_name ?? candidate.constraint;
      return name === constraint || (typeof candidate.message === "string" && candidate.message.includes(constraint));
    }
  }
  return false;
}
