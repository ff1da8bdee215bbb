import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";
import { MAX_SEARCH_OFFSET, MAX_SEARCH_PAGE, MAX_SEARCH_QUERY_CHARS } from "@/lib/limits";
import { checkText } from "@/lib/text";
import { AppError } from "../errors";

const cursor = z
  .string("cursor must be a string")
  .regex(/^\d{1,4}$/, "cursor is malformed")
  .refine((n) => Number(n) <= MAX_SEARCH_OFFSET, `Search pages go at most ${MAX_SEARCH_OFFSET} results deep`);

export const searchInput = z.object({
  query: z.string("query must be a string"),
  conversationId: z.uuid("conversationId must be a UUID").optional(),
  fromUserId: z.uuid("fromUserId must be a UUID").optional(),
  before: z.iso.datetime({ message: "before must be an ISO date-time", offset: true }).optional(),
  after: z.iso.datetime({ message: "after must be an ISO date-time", offset: true }).optional(),
  cursor: cursor.optional(),
  limit: z
    .number()
    .int()
    .min(1, `limit must be 1-${MAX_SEARCH_PAGE}`)
    .max(MAX_SEARCH_PAGE, `limit must be 1-${MAX_SEARCH_PAGE}`)
    .default(20),
});

export type SearchInput = z.input<typeof searchInput>;

/** A piece of a snippet; `hit` pieces are what matched. */
export type SnippetPart = { text: string; hit: boolean };

export type SearchHit = {
  conversationId: string;
  /** Group name; null for a DM (the client shows the peer). */
  conversationName: string | null;
  conversationKind: "dm" | "group";
  messageId: string;
  seq: number;
  senderId: string | null;
  senderName: string | null;
  createdAt: string;
  snippet: SnippetPart[];
};

export type SearchPage = { results: SearchHit[]; nextCursor: string | null };

/** Words to highlight and to match as substrings: the query without websearch operators. */
export function searchTerms(query: string): string[] {
  const words = query
    .replace(/["()]/g, " ")
    .split(/\s+/)
    .filter((w) => w !== "" && w.toUpperCase() !== "OR" && !w.startsWith("-"));
  return [...new Set(words.map((w) => w.toLowerCase()))];
}

/** Plain words only (no phrase, exclusion or OR): then substrings match too ("deploy" finds "deployment", 上海 inside a sentence). */
const isPlainQuery = (query: string) => !/["]|(^|\s)-|\sOR\s/.test(query);

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

const SNIPPET_CHARS = 160;

/** The part of a body around its first hit, cut at word boundaries where possible, with every hit marked. */
export function snippetOf(body: string, terms: string[]): SnippetPart[] {
  const lower = body.toLowerCase();
  const hits: [number, number][] = [];
  for (const term of terms) {
    for (let at = lower.indexOf(term); at !== -1 && term !== ""; at = lower.indexOf(term, at + term.length)) {
      hits.push([at, at + term.length]);
    }
  }
  hits.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const hit of hits) {
    const last = merged.at(-1);
    if (last && hit[0] <= last[1]) last[1] = Math.max(last[1], hit[1]);
    else merged.push([...hit]);
  }
  let start = 0;
  let end = body.length;
  if (body.length > SNIPPET_CHARS) {
    const first = merged[0]?.[0] ?? 0;
    start = Math.max(0, first - 40);
    const space = body.lastIndexOf(" ", start);
    if (space > first - 60 && space >= 0 && start > 0) start = space + 1;
    end = Math.min(body.length, start + SNIPPET_CHARS);
  }
  const parts: SnippetPart[] = [];
  const push = (text: string, hit: boolean) => text && parts.push({ text, hit });
  if (start > 0) push("…", false);
  let at = start;
  for (const [from, to] of merged) {
    if (to <= start || from >= end) continue;
    push(body.slice(at, Math.max(at, from)), false);
    push(body.slice(Math.max(at, from), Math.min(to, end)), true);
    at = Math.min(to, end);
  }
  push(body.slice(at, end), false);
  if (end < body.length) push("…", false);
  return parts;
}

/**
 * Messages matching a query in the caller's conversations, only inside each
 * one's visible window (after joined_seq, up to left_seq for a member who
 * left), deleted messages never: full-text (websearch syntax: phrases,
 * -exclusion, OR) plus substring matches for plain words. Ranked, newest
 * first on ties, paged by offset.
 */
export async function searchMessages(db: DbOrTx, userId: string, input: SearchInput): Promise<SearchPage> {
  const parsed = searchInput.parse(input);
  const checked = checkText(parsed.query, { field: "Search", max: MAX_SEARCH_QUERY_CHARS });
  if (!checked.ok) throw new AppError("BAD_REQUEST", checked.message);
  const query = checked.value;
  const terms = searchTerms(query);
  if (terms.length === 0) throw new AppError("BAD_REQUEST", "Search for at least one word");
  const offset = Number(parsed.cursor ?? 0);
  const limit = parsed.limit;

  const substring = isPlainQuery(query)
    ? sql.join(
        terms.map((t) => sql`m.body ilike ${`%${escapeLike(t)}%`}`),
        sql` and `,
      )
    : sql`false`;
  const rows = await queryRows<{
    conversation_id: string;
    name: string | null;
    kind: "dm" | "group";
    id: string;
    seq: number | string;
    sender_id: string | null;
    sender_name: string | null;
    created_at: string | Date;
    body: string;
  }>(
    db,
    sql`with q as (select websearch_to_tsquery('simple', ${query}) as q),
        mine as (
          select mb.conversation_id, mb.joined_seq,
                 case when mb.left_at is null then null else coalesce(mb.left_seq, mb.joined_seq) end as upto
          from members mb
          where mb.user_id = ${userId}::uuid
            ${parsed.conversationId ? sql`and mb.conversation_id = ${parsed.conversationId}::uuid` : sql``}
        )
        select m.conversation_id, c.name, c.kind, m.id::text as id, m.seq, m.sender_id, u.display_name as sender_name,
               m.created_at, m.body
        from mine
        join messages m on m.conversation_id = mine.conversation_id and m.seq > mine.joined_seq
                       and (mine.upto is null or m.seq <= mine.upto)
        join conversations c on c.id = m.conversation_id
        left join users u on u.id = m.sender_id
        cross join q
        where m.deleted_at is null and m.kind = 'text'
          and (m.search_tsv @@ q.q or (${substring}))
          ${parsed.fromUserId ? sql`and m.sender_id = ${parsed.fromUserId}::uuid` : sql``}
          ${parsed.before ? sql`and m.created_at < ${parsed.before}::timestamptz` : sql``}
          ${parsed.after ? sql`and m.created_at > ${parsed.after}::timestamptz` : sql``}
        order by ts_rank(m.search_tsv, q.q) + case when ${substring} then 0.01 else 0 end desc, m.id desc
        limit ${limit + 1} offset ${offset}`,
  );
  const page = rows.slice(0, limit);
  const next = offset + limit;
  return {
    results: page.map((r) => ({
      conversationId: r.conversation_id,
      conversationName: r.name,
      conversationKind: r.kind,
      messageId: r.id,
      seq: Number(r.seq),
      senderId: r.sender_id,
      senderName: r.sender_name,
      createdAt: new Date(r.created_at).toISOString(),
      snippet: snippetOf(r.body, terms),
    })),
    nextCursor: rows.length > limit && next <= MAX_SEARCH_OFFSET ? String(next) : null,
  };
}
