import { type SQL, sql } from "drizzle-orm";
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

// Kana, CJK ideographs and Hangul: the class db/migrations/0006_search_cjk_grams.sql indexes.
const CJK_CLASS = "\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uac00-\\ud7af\\uf900-\\ufaff";
const CJK_ONLY = new RegExp(`^[${CJK_CLASS}]+$`, "u");
// A literal, not a parameter: the planner proves the partial CJK index applies only from the same text.
const HAS_CJK = sql.raw(`'[${CJK_CLASS}]'`);

/** A CJK term's index keys: itself if one character, else its adjacent pairs (the index holds both). */
function cjkGrams(term: string): string[] {
  const chars = [...term];
  if (chars.length === 1) return chars;
  return [...new Set(chars.slice(1).map((c, i) => chars[i] + c))];
}

/**
 * One term as a substring: `check` tests a row (cheap), `indexed` says the same through an index:
 * CJK text its character/pair index, three or more characters pg_trgm. A shorter term matches
 * only as a whole word (a two-letter substring would read every message).
 */
function substringOf(term: string): { check: SQL; indexed: SQL } {
  const like = sql`m.body ilike ${`%${escapeLike(term)}%`}`;
  if (CJK_ONLY.test(term)) {
    const grams = `{${cjkGrams(term).join(",")}}`;
    return {
      check: like,
      indexed: sql`chorus_cjk_grams(m.body) @> ${grams}::text[] and m.body ~ ${HAS_CJK} and ${like}`,
    };
  }
  if ([...term].length >= 3) return { check: like, indexed: like };
  const word = sql`m.search_tsv @@ plainto_tsquery('simple', ${term})`;
  return { check: word, indexed: word };
}

/**
 * The newest matches are ranked; older ones follow newest first. Ranking every match of a common
 * word reads every one of them (100,000 rows for one word in ten of a million messages); the newest
 * hundred are found reading recent messages only.
 */
export const RANKED_MATCHES = 100;

/**
 * How `newestMatches` looks (see there); tests shrink them to walk every way on a small history.
 * - `ownHistory`: a caller who can see no more messages than this is answered from them alone;
 * - `quickWindow`: the first, short look at the server's newest messages, for a common word;
 * - `probeMatches`: the indexes answer alone when the whole server has fewer matches than this;
 * - `ownWindow`: the first look at the caller's own newest messages, this many split over their
 *   conversations; `ownReads`: how many of them that look may read in all, deepening;
 */
export type SearchTuning = {
  /** Told which look answered: tests pin that a case is answered the bounded way. */
  answered?: (way: SearchWay) => void;
  ownHistory?: number;
  quickWindow?: number;
  probeMatches?: number;
  ownWindow?: number;
  ownReads?: number;
  rankedMatches?: number;
};

export type SearchWay = "own history" | "quick window" | "probe" | "own window" | "every match";

type Tuning = Required<Omit<SearchTuning, "answered">>;

const TUNING: Tuning = {
  ownHistory: 20_000,
  quickWindow: 2_000,
  probeMatches: 2_000,
  ownWindow: 16_000,
  ownReads: 50_000,
  rankedMatches: RANKED_MATCHES,
};

type MatchRow = {
  conversation_id: string;
  id: string;
  seq: number | string;
  sender_id: string | null;
  created_at: string | Date;
  body: string;
  rank: number | string;
};

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

type Names = {
  conversations: Map<string, { name: string | null; kind: "dm" | "group" }>;
  senders: Map<string, string>;
};

/** Conversation and sender names for one page only. */
async function namesOf(db: DbOrTx, page: MatchRow[]): Promise<Names> {
  const uuids = (ids: (string | null)[]) => `{${[...new Set(ids.filter((id) => id !== null))].join(",")}}`;
  const rows = await queryRows<{ is_user: boolean; id: string; name: string | null; kind: "dm" | "group" | null }>(
    db,
    sql`select false as is_user, id::text, name, kind from conversations
        where id = any(${uuids(page.map((r) => r.conversation_id))}::uuid[])
        union all
        select true, id::text, display_name, null from users where id = any(${uuids(page.map((r) => r.sender_id))}::uuid[])`,
  );
  const names: Names = { conversations: new Map(), senders: new Map() };
  for (const row of rows) {
    if (row.is_user) names.senders.set(row.id, row.name ?? "");
    else names.conversations.set(row.id, { name: row.name, kind: row.kind ?? "group" });
  }
  return names;
}

/**
 * Messages matching a query in the caller's conversations, only inside each
 * one's visible window (after joined_seq, up to left_seq for a member who
 * left), deleted messages never: full-text (websearch syntax: phrases,
 * -exclusion, OR) plus substring matches for plain words. The newest
 * RANKED_MATCHES matches come best first (newest first on ties), older ones
 * after them newest first; paged by offset.
 */
export async function searchMessages(
  db: DbOrTx,
  userId: string,
  input: SearchInput,
  tuning: SearchTuning = {},
): Promise<SearchPage> {
  const parsed = searchInput.parse(input);
  const checked = checkText(parsed.query, { field: "Search", max: MAX_SEARCH_QUERY_CHARS });
  if (!checked.ok) throw new AppError("BAD_REQUEST", checked.message);
  const query = checked.value;
  const terms = searchTerms(query);
  if (terms.length === 0) throw new AppError("BAD_REQUEST", "Search for at least one word");
  const offset = Number(parsed.cursor ?? 0);
  const limit = parsed.limit;
  const tune = { ...TUNING, ...tuning };
  const ranked = tune.rankedMatches;

  const mine = sql`select mb.conversation_id, mb.joined_seq,
                          case when mb.left_at is null then null else coalesce(mb.left_seq, mb.joined_seq) end as upto
                   from members mb
                   where mb.user_id = ${userId}::uuid
                     ${parsed.conversationId ? sql`and mb.conversation_id = ${parsed.conversationId}::uuid` : sql``}`;
  // How many messages the caller can see decides how to look (see `newestMatches`).
  const [seen] = await queryRows<{ conversations: number | string; messages: number | string | null }>(
    db,
    sql`select count(*) as conversations,
               sum(greatest(0, coalesce(least(mine.upto, c.last_seq), c.last_seq) - mine.joined_seq)) as messages
        from (${mine}) mine join conversations c on c.id = mine.conversation_id`,
  );
  if (Number(seen.conversations) === 0) return { results: [], nextCursor: null };

  const tsquery = sql`websearch_to_tsquery('simple', ${query})`;
  const parts = isPlainQuery(query) ? terms.map(substringOf) : null;
  const substring = parts
    ? sql.join(
        parts.map((p) => sql`(${p.check})`),
        sql` and `,
      )
    : sql`false`;
  const search = {
    mine,
    words: sql`m.search_tsv @@ ${tsquery}`,
    substringIndexed: parts
      ? sql.join(
          parts.map((p) => p.indexed),
          sql` and `,
        )
      : null,
    match: sql`(m.search_tsv @@ ${tsquery} or (${substring}))`,
    rank: sql`ts_rank(m.search_tsv, ${tsquery}) + case when ${substring} then 0.01 else 0 end`,
    filters: sql`m.deleted_at is null and m.kind = 'text'
      ${parsed.fromUserId ? sql`and m.sender_id = ${parsed.fromUserId}::uuid` : sql``}
      ${parsed.before ? sql`and m.created_at < ${parsed.before}::timestamptz` : sql``}
      ${parsed.after ? sql`and m.created_at > ${parsed.after}::timestamptz` : sql``}`,
  };
  const visible = Number(seen.messages ?? 0);
  // One more than the page shows tells whether a next page exists.
  const wanted = Math.max(ranked, offset + limit + 1);
  const visibleTo = { messages: visible, conversations: Number(seen.conversations) };
  // Probing a word in most messages reads its whole posting list only to learn it is common; a
  // word in a few thousand is cheaper read whole at once than looked for in recent messages.
  const expected = tune.probeMatches > 0 ? await expectedMatches(db, terms) : 0;
  const probeMatches =
    expected > tune.probeMatches * COMMON_FACTOR ? 0 : Math.max(tune.probeMatches, Math.ceil(expected * 2));
  const { rows, way } = await newestMatches(db, search, wanted, visibleTo, { ...tune, probeMatches });
  tuning.answered?.(way);

  const order = [
    ...rows.slice(0, ranked).sort((a, b) => Number(b.rank) - Number(a.rank) || compareIdsDesc(a.id, b.id)),
    ...rows.slice(ranked),
  ];
  const page = order.slice(offset, offset + limit);
  const names = page.length ? await namesOf(db, page) : { conversations: new Map(), senders: new Map() };
  const next = offset + limit;
  return {
    results: page.map((r) => {
      const c = names.conversations.get(r.conversation_id);
      return {
        conversationId: r.conversation_id,
        conversationName: c?.name ?? null,
        conversationKind: c?.kind ?? "group",
        messageId: r.id,
        seq: Number(r.seq),
        senderId: r.sender_id,
        senderName: r.sender_id ? (names.senders.get(r.sender_id) ?? null) : null,
        createdAt: new Date(r.created_at).toISOString(),
        snippet: snippetOf(r.body, terms),
      };
    }),
    nextCursor: order.length > next && next <= MAX_SEARCH_OFFSET ? String(next) : null,
  };
}

/** A query is common when its rarest word is expected in this many times `probeMatches` messages. */
const COMMON_FACTOR = 10;
const WORD_STATS_SECONDS = 60;
type WordStats = { at: number; rows: number; frequency: Map<string, number> };
const wordStatsByDb = new WeakMap<object, WordStats>();

/**
 * How many messages the rarest of `terms` is expected in, from the statistics ANALYZE keeps
 * of the search vectors (the most common words and their frequencies), read once a minute.
 * A word not among them counts as rare.
 */
async function expectedMatches(db: DbOrTx, terms: string[]): Promise<number> {
  let stats = wordStatsByDb.get(db);
  if (!stats || Date.now() - stats.at > WORD_STATS_SECONDS * 1000) {
    const [row] = await queryRows<{ rows: number | string | null; words: string[] | null; freqs: number[] | null }>(
      db,
      sql`select (select reltuples from pg_class where oid = 'messages'::regclass) as rows,
                 s.most_common_elems::text::text[] as words, s.most_common_elem_freqs as freqs
          from (select 1) one left join pg_stats s
            on s.schemaname = current_schema() and s.tablename = 'messages' and s.attname = 'search_tsv'`,
    );
    const frequency = new Map<string, number>();
    for (const [i, word] of (row?.words ?? []).entries()) frequency.set(word, Number(row?.freqs?.[i] ?? 0));
    stats = { at: Date.now(), rows: Math.max(0, Number(row?.rows ?? 0)), frequency };
    wordStatsByDb.set(db, stats);
  }
  const current = stats;
  return Math.min(...terms.map((t) => (current.frequency.get(t) ?? 0) * current.rows));
}

const compareIdsDesc = (a: string, b: string) => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x > y ? -1 : x < y ? 1 : 0;
};

type SearchSql = { mine: SQL; words: SQL; substringIndexed: SQL | null; match: SQL; rank: SQL; filters: SQL };

/**
 * The caller's `count` newest visible matches, newest first, reading as little as it can:
 * 1. a caller who can see few messages: all of them, through the primary key;
 * 2. a common word: its newest matches are among the server's newest few thousand messages,
 *    read backwards on the id index (one word in ten: 100 matches in 1,000 messages);
 * 3. a rare word: the GIN indexes find every match on the server, when there are few;
 * 4. a common word anywhere else (say in conversations other people keep busier): the caller's
 *    own newest messages, read backwards on the primary key from the top of each conversation;
 * 5. when none of those can tell, every match.
 * A step answers only when its answer is exact, so every way returns the same rows.
 */
async function newestMatches(
  db: DbOrTx,
  s: SearchSql,
  count: number,
  visible: { messages: number; conversations: number },
  tune: Tuning,
): Promise<{ rows: MatchRow[]; way: SearchWay }> {
  const columns = sql`m.conversation_id, m.id::text as id, m.seq, m.sender_id, m.created_at, m.body, ${s.rank} as rank`;
  const inWindow = sql`m.seq > mine.joined_seq and (mine.upto is null or m.seq <= mine.upto)`;
  if (visible.messages <= tune.ownHistory) {
    // Materialized: the planner must not trade this bounded read for a full-text index scan over every conversation.
    const rows = await queryRows<MatchRow>(
      db,
      sql`with mine as (${s.mine}),
          seen as materialized (
            select m.* from mine join messages m on m.conversation_id = mine.conversation_id and ${inWindow}
          )
          select ${columns} from seen m
          where ${s.filters} and ${s.match}
          order by m.id desc limit ${count}`,
    );
    return { rows, way: "own history" };
  }
  // Window sizes are written into the text, not bound: statements stay prepared, and a generic
  // plan that cannot see a bound limit may guess a tenth of the table and sort it.
  const literal = (n: number) => sql.raw(String(Math.max(0, Math.floor(n))));
  // Every visible message newer than the last one read was looked at: `count` matches there are the newest.
  const recent = async (window: number) => {
    const rows = await queryRows<MatchRow>(
      db,
      sql`with mine as (${s.mine}),
          recent as (select * from messages order by id desc limit ${literal(window)})
          select ${columns} from recent m join mine on mine.conversation_id = m.conversation_id and ${inWindow}
          where ${s.filters} and ${s.match}
          order by m.id desc limit ${count}`,
    );
    return rows.length >= count ? rows : null;
  };
  // The caller's own newest messages, read backwards from the top of each conversation, the same
  // number from each at first. Within a conversation seq follows id (but for sends that raced each
  // other), so what is left unread in one is older than the message just below its window; a
  // conversation whose next unread message is newer than the count-th match found is read deeper
  // (see `grow`), until none is, or `budget` rows have been read.
  const own = async (window: number, budget: number) => {
    if (window <= 0) return null;
    const tops = await queryRows<{ conversation_id: string; floor: number | string; top: number | string }>(
      db,
      sql`select mine.conversation_id, mine.joined_seq as floor, least(coalesce(mine.upto, c.last_seq), c.last_seq) as top
          from (${s.mine}) mine join conversations c on c.id = mine.conversation_id`,
    );
    const first = Math.max(1, Math.floor(window / Math.max(1, tops.length)));
    let reads = tops
      .map((t) => ({ conversation: t.conversation_id, floor: Number(t.floor), hi: Number(t.top), depth: first }))
      .filter((r) => r.hi > r.floor);
    let found: MatchRow[] = [];
    let read = 0;
    while (reads.length > 0) {
      const windows = reads.map((r) => ({ ...r, lo: Math.max(r.floor, r.hi - r.depth) }));
      const rows = windows.reduce((n, w) => n + (w.hi - w.lo), 0);
      budget -= rows;
      read += rows;
      if (budget < 0) return null;
      const list = (pick: (w: (typeof windows)[number]) => string | number) => `{${windows.map(pick).join(",")}}`;
      const w = sql`unnest(${list((w) => w.conversation)}::uuid[], ${list((w) => w.lo)}::bigint[],
                           ${list((w) => w.hi)}::bigint[], ${list((w) => w.floor)}::bigint[]) as w(conversation_id, lo, hi, floor)`;
      const [matches, below] = await Promise.all([
        queryRows<MatchRow>(
          db,
          // Lateral, kept apart by `offset 0`: each window is a range of the primary key, not a filter
          // on a walk of the whole id index.
          sql`select m.* from ${w} cross join lateral (
                select ${columns} from messages m
                where m.conversation_id = w.conversation_id and m.seq > w.lo and m.seq <= w.hi
                  and ${s.filters} and ${s.match}
                offset 0
              ) m
              order by m.id desc limit ${count}`,
        ),
        queryRows<{ conversation_id: string; id: string }>(
          db,
          sql`select w.conversation_id, u.id::text as id from ${w} cross join lateral (
                select m.id from messages m
                where m.conversation_id = w.conversation_id and m.seq > w.floor and m.seq <= w.lo
                order by m.seq desc limit 1
              ) u`,
        ),
      ]);
      found = [...found, ...matches].sort((a, b) => compareIdsDesc(a.id, b.id)).slice(0, count);
      const newest = found.length >= count ? BigInt(found[count - 1].id) : null;
      const unresolved = new Set(
        below.filter((u) => newest === null || BigInt(u.id) > newest).map((u) => u.conversation_id),
      );
      if (unresolved.size === 0) break;
      // Too few matches for the rows read: reading on would not find the rest within the budget.
      if (newest === null && (found.length === 0 || ((count - found.length) * read) / found.length > budget)) {
        return null;
      }
      // Twice as far while many are left (each row read counts, times the conversations); eight
      // times when few are (each round trip counts).
      const grow = unresolved.size > 50 ? 2 : 8;
      reads = windows
        .filter((w) => unresolved.has(w.conversation))
        .map((w) => ({ conversation: w.conversation, floor: w.floor, hi: w.lo, depth: w.depth * grow }));
    }
    return found;
  };
  // Every match on the server through the GIN indexes (at most `limit`), then the caller's windows.
  // Two branches, so each one's conditions stand alone and are answered by its index, not rechecked.
  const indexed = async (limit: number | null) => {
    const bySubstring = s.substringIndexed
      ? sql`union all select * from messages m where ${s.filters} and ${s.substringIndexed} and not (${s.words})`
      : sql``;
    // The count comes on a row of its own too, so it is known when none of the matches is visible.
    const rows = await queryRows<Partial<MatchRow> & { matched: number | string }>(
      db,
      sql`with mine as (${s.mine}),
          matched as materialized (
            select * from messages m where ${s.filters} and ${s.words} ${bySubstring}
            ${limit === null ? sql`` : sql`limit ${literal(limit)}`}
          )
          select r.*, t.matched from (select count(*) as matched from matched) t
          left join lateral (
            select ${columns}
            from matched m join mine on mine.conversation_id = m.conversation_id and ${inWindow}
            order by m.id desc limit ${count}
          ) r on true`,
    );
    // Fewer than the limit: these were all the matches there are.
    if (limit !== null && Number(rows[0].matched) >= limit) return null;
    return rows.filter((r): r is MatchRow & { matched: number } => r.id != null);
  };
  const ways: [SearchWay, () => Promise<MatchRow[] | null>][] = [
    ["quick window", () => recent(tune.quickWindow)],
    ["probe", () => (tune.probeMatches > 0 ? indexed(tune.probeMatches) : Promise.resolve(null))],
    ["own window", () => own(tune.ownWindow, tune.ownReads)],
  ];
  for (const [way, look] of ways) {
    const rows = await look();
    if (rows) return { rows, way };
  }
  return { rows: (await indexed(null)) ?? [], way: "every match" };
}
