import { and, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import { members, mentions, users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";

/** Words that mention everyone: one flag on the message, never a row per member. */
const EVERYONE = new Set(["all", "here", "everyone"]);

// A mention starts a word: "mail@bob" is an address, not a mention.
const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{1,32})/g;

/** Distinct usernames per message we look up; the rows written stay bounded by this. */
export const MAX_MENTIONS_PER_MESSAGE = 50;

export type ParsedMentions = { all: boolean; usernames: string[] };

/** The @words of a body: lower-cased candidate usernames, and whether it mentions everyone. */
export function parseMentions(body: string): ParsedMentions {
  let all = false;
  const usernames = new Set<string>();
  for (const match of body.matchAll(MENTION)) {
    const word = match[2].toLowerCase();
    // "@bob." ends a sentence; "@bob.smith" is a username.
    const trimmed = word.replace(/[.-]+$/, "");
    if (EVERYONE.has(trimmed)) {
      all = true;
      continue;
    }
    for (const candidate of trimmed === word ? [word] : [trimmed, word]) {
      if (usernames.size < MAX_MENTIONS_PER_MESSAGE && candidate.length >= 3) usernames.add(candidate);
    }
  }
  return { all, usernames: [...usernames] };
}

export type ResolvedMentions = { mentionsAll: boolean; userIds: string[] };

/**
 * Resolves the mentions of a body to current members of the conversation.
 * Unknown usernames, non-members, members who left and the sender themselves are ignored.
 */
export async function resolveMentions(
  tx: DbOrTx,
  conversationId: string,
  body: string,
  senderId?: string | null,
): Promise<ResolvedMentions> {
  const parsed = parseMentions(body);
  if (parsed.usernames.length === 0) return { mentionsAll: parsed.all, userIds: [] };
  const rows = await tx
    .select({ id: users.id })
    .from(users)
    .innerJoin(members, and(eq(members.userId, users.id), eq(members.conversationId, conversationId)))
    .where(
      and(
        inArray(sql`lower(${users.username})`, parsed.usernames),
        isNull(members.leftAt),
        senderId ? ne(users.id, senderId) : undefined,
      ),
    );
  return { mentionsAll: parsed.all, userIds: rows.map((r) => r.id) };
}

/** One row per explicitly mentioned member of the message at `seq`. */
export async function recordMentions(
  tx: DbOrTx,
  input: { conversationId: string; seq: number; userIds: string[] },
): Promise<void> {
  if (input.userIds.length === 0) return;
  await tx
    .insert(mentions)
    .values(input.userIds.map((userId) => ({ userId, conversationId: input.conversationId, seq: input.seq })))
    .onConflictDoNothing();
}
