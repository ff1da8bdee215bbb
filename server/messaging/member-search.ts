import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { MemberRole } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { MAX_MENTION_QUERY_CHARS, MAX_MENTION_SUGGESTIONS } from "@/lib/limits";
import { checkText } from "@/lib/text";
import type { PublicUser } from "../auth/accounts";
import type { Membership } from "./membership";

export const searchMembersInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  // Empty lists the first members (a bare "@"); anything people do not type is refused.
  query: z
    .string("query must be a string")
    .max(MAX_MENTION_QUERY_CHARS, `query must be at most ${MAX_MENTION_QUERY_CHARS} characters`)
    .refine(
      (v) => v === "" || checkText(v, { field: "query", max: MAX_MENTION_QUERY_CHARS }).ok,
      "query contains characters people do not type",
    ),
  limit: z
    .number()
    .int()
    .min(1, `limit must be 1-${MAX_MENTION_SUGGESTIONS}`)
    .max(MAX_MENTION_SUGGESTIONS, `limit must be 1-${MAX_MENTION_SUGGESTIONS}`)
    .default(8),
});

export type MemberMatch = PublicUser & { role: MemberRole };

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Mention autocomplete: current members whose username or display name
 * starts with `query` (case-insensitive). The prefix is read from the
 * text_pattern_ops indexes on users and each candidate's membership from the
 * members key, so a 10,000-member group answers as fast as a small one.
 */
export async function searchMembers(
  db: DbOrTx,
  membership: Membership,
  input: z.input<typeof searchMembersInput>,
): Promise<MemberMatch[]> {
  const { query, limit } = searchMembersInput.parse(input);
  const prefix = `${escapeLike(query.trim().replace(/^@/, "").toLowerCase())}%`;
  const rows = await queryRows<{
    id: string;
    username: string;
    display_name: string;
    avatar_url: string | null;
    role: MemberRole;
  }>(
    db,
    sql`select u.id, u.username, u.display_name, u.avatar_url, m.role
        from users u
        join members m on m.conversation_id = ${membership.conversation.id}::uuid and m.user_id = u.id
        where m.left_at is null
          and (lower(u.username) like ${prefix} or lower(u.display_name) like ${prefix})
        order by lower(u.username)
        limit ${limit}`,
  );
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    avatarUrl: r.avatar_url,
    role: r.role,
  }));
}
