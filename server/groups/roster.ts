import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { MemberRole } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { requireMembership } from "../messaging/membership";
import { type ListMembersInput, listMembersInput } from "./rules";

export type GroupMember = {
  userId: string;
  username: string;
  displayName: string;
  avatarUrl: string | null;
  role: MemberRole;
  joinedAt: string;
};

export type MemberPage = { items: GroupMember[]; nextCursor: string | null; total: number };

type Cursor = [rank: number, name: string, userId: string];

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A name we encoded came out of Postgres text, which cannot hold NUL or lone surrogates:
// a cursor carrying them was not ours, and would fail in the query as a 500.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const couldBeStored = (name: string) => !name.includes("\u0000") && !LONE_SURROGATE.test(name);

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(c) &&
      c.length === 3 &&
      (c[0] === 0 || c[0] === 1 || c[0] === 2) &&
      typeof c[1] === "string" &&
      couldBeStored(c[1]) &&
      typeof c[2] === "string" &&
      UUID.test(c[2])
    ) {
      return c as Cursor;
    }
  } catch {
    // a malformed cursor is answered below
  }
  throw new AppError("BAD_REQUEST", "Invalid cursor");
}

const rank = sql`case m.role when 'owner' then 0 when 'admin' then 1 else 2 end`;

/**
 * Current members of a group (members only): owner first, then admins, then
 * everyone by name; keyset pages so a 10,000-member list stays cheap to page.
 */
export async function listMembers(db: DbOrTx, userId: string, rawInput: ListMembersInput): Promise<MemberPage> {
  const input = listMembersInput.parse(rawInput);
  const { conversation } = await requireMembership(db, input.conversationId, userId);
  const after = input.cursor ? decodeCursor(input.cursor) : null;
  const rows = await queryRows<{
    user_id: string;
    username: string;
    display_name: string;
    avatar_url: string | null;
    role: MemberRole;
    joined_at: Date | string;
    rank: number;
    sort_name: string;
  }>(
    db,
    sql`select m.user_id, u.username, u.display_name, u.avatar_url, m.role, m.joined_at,
               ${rank} as rank, lower(u.display_name) as sort_name
        from members m join users u on u.id = m.user_id
        where m.conversation_id = ${conversation.id} and m.left_at is null
          ${after ? sql`and (${rank}, lower(u.display_name), m.user_id) > (${after[0]}, ${after[1]}, ${after[2]}::uuid)` : sql``}
        order by 7, 8, m.user_id
        limit ${input.limit + 1}`,
  );
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      userId: r.user_id,
      username: r.username,
      displayName: r.display_name,
      avatarUrl: r.avatar_url,
      role: r.role,
      joinedAt: new Date(r.joined_at).toISOString(),
    })),
    nextCursor:
      rows.length > input.limit && last ? encodeCursor([Number(last.rank), last.sort_name, last.user_id]) : null,
    total: conversation.memberCount,
  };
}
