import { eq } from "drizzle-orm";
import { z } from "zod";
import { users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { logger } from "../logger";
import type { Membership } from "../messaging/membership";
import { conversationChannel } from "../realtime/channels";
import type { Publisher } from "../realtime/publisher";
import { presenceSettings } from "./settings";

const log = logger.child({ domain: "typing" });

// No userId: who is typing is the session's user, never what the browser says.
export const typingInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  typing: z.boolean("typing must be true or false"),
});

/** A member's "started typing" is announced at most this often per conversation; stops always pass. */
export const TYPING_START_INTERVAL_MS = 2_000;

// Per process: several app instances may each let one start through per interval, which is harmless.
const lastStartAt = new Map<string, number>();
const PRUNE_ABOVE = 10_000;

function throttled(key: string, now: number): boolean {
  const last = lastStartAt.get(key);
  if (last !== undefined && now - last < TYPING_START_INTERVAL_MS) return true;
  if (lastStartAt.size >= PRUNE_ABOVE) {
    for (const [k, at] of lastStartAt) if (now - at >= TYPING_START_INTERVAL_MS) lastStartAt.delete(k);
  }
  lastStartAt.set(key, now);
  return false;
}

export type TypingAnswer = { sent: boolean };

/**
 * Tells the conversation's members that the caller started or stopped
 * typing: one event on the conversation channel, never stored, no outbox (a
 * lost one expires in the receivers). Off in groups above the typing limit.
 */
export async function announceTyping(
  db: DbOrTx,
  options: {
    publisher: Publisher;
    membership: Membership;
    typing: boolean;
    maxMembers?: number;
    now?: number;
  },
): Promise<TypingAnswer> {
  const { conversation, member } = options.membership;
  const maxMembers = options.maxMembers ?? presenceSettings().typingMaxMembers;
  if (conversation.memberCount > maxMembers) return { sent: false };
  const key = `${member.userId}:${conversation.id}`;
  if (options.typing) {
    if (throttled(key, options.now ?? Date.now())) return { sent: false };
  } else {
    lastStartAt.delete(key);
  }
  const [user] = await db.select({ name: users.displayName }).from(users).where(eq(users.id, member.userId));
  try {
    await options.publisher.publish(conversationChannel(conversation.id), "typing", {
      userId: member.userId,
      name: user?.name ?? "Someone",
      typing: options.typing,
    });
  } catch (error) {
    log.warn({ err: error, conversationId: conversation.id }, "typing event not published");
    return { sent: false };
  }
  return { sent: true };
}
