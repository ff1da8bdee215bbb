// Section 11: message.search over a large history: full text, a phrase and a CJK substring.
import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { BenchContext, SectionResult } from "./context";
import { seedManyGroups, seedUsers } from "./seed";
import { percentiles } from "./stats";

type Page = { results: unknown[]; nextCursor: string | null };

// Bodies by position: common words in every message, "meeting" in 1 of 10, the phrase in 1 of 100,
// CJK text in 1 of 1,000 and a rare word in 1 of 10,000.
const body = sql`case
  when g % 10000 = 0 then 'booked the trip to zanzibar for item ' || g
  when g % 1000 = 7 then '我家在上海东边 ' || g
  when g % 100 = 3 then 'the release train leaves after item ' || g
  when g % 10 = 1 then 'meeting notes for item ' || g
  else 'status update ' || g || ' about the ' || (array['build', 'tests', 'docs', 'design', 'review'])[1 + g % 5]
end`;

export async function searchSection(ctx: BenchContext): Promise<SectionResult> {
  const { target, sizes, pool } = ctx;
  const searcher = pool[0];
  const [other] = await seedUsers(target.db, 1, "srch", target.passwordHash);
  const perConversation = Math.ceil(sizes.searchMessages / sizes.searchConversations);
  ctx.log(`search: seeding ${sizes.searchConversations} conversations x ${perConversation} messages`);
  const seedStart = performance.now();
  const convs = await seedManyGroups(target.db, sizes.searchConversations, "search", [other.id, searcher.user.id], 0);
  await target.db.execute(sql`create sequence if not exists bench_seed_message_id`);
  // Ids as a live server's would be: rising with seq, the conversations' messages interleaved in
  // time (all older than anything sent since). A block of the seed sequence is reserved for them.
  const total = perConversation * convs.length;
  const [{ base }] = await queryRows<{ base: string }>(
    target.db,
    sql`select setval('bench_seed_message_id', nextval('bench_seed_message_id') + ${total}::bigint)::text as base`,
  );
  const oldest = -BigInt(base);
  // Batches of conversations, so progress shows and no statement runs for minutes.
  const batchSize = 50;
  for (let i = 0; i < convs.length; i += batchSize) {
    const batch = convs.slice(i, i + batchSize);
    const ids = `{${batch.join(",")}}`;
    await target.db.execute(
      sql`insert into messages (conversation_id, seq, id, sender_id, kind, body)
          select c.id, s, ${String(oldest)}::bigint + (s - 1) * ${convs.length}::bigint + ${i}::bigint + c.n - 1,
                 ${other.id}::uuid, 'text', ${body}
          from unnest(${ids}::uuid[]) with ordinality as c(id, n)
          cross join generate_series(1, ${perConversation}::int) s
          cross join lateral (select (${i}::int + c.n - 1) * ${perConversation}::int + s as g) x`,
    );
    await target.db.execute(
      sql`update conversations set last_seq = ${perConversation}, last_message_at = now() where id = any(${ids}::uuid[])`,
    );
    if ((i / batchSize) % 4 === 3) ctx.log(`search: ${i + batch.length} conversations seeded`);
  }
  // Where a live server's autovacuum would be after a million inserts: the GIN indexes' pending
  // lists merged (a search otherwise reads them whole) and statistics gathered.
  await target.db.execute(sql`vacuum analyze messages, members, conversations`);
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const [{ n }] = await queryRows<{ n: string }>(target.db, sql`select count(*)::text as n from messages`);

  const queries = [
    { name: "common word", query: "meeting" },
    { name: "rare word", query: "zanzibar" },
    { name: "phrase", query: '"release train"' },
    { name: "CJK substring", query: "上海" },
    { name: "prefix (substring)", query: "zanzib" },
  ];
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = { messages: Number(n), conversations: convs.length, seedSeconds };
  for (const q of queries) {
    const samples: number[] = [];
    let hits = 0;
    // One warm-up call loads the index pages; the figures are the calls after it.
    await searcher.call<Page>("query", "message.search", { query: q.query });
    for (let i = 0; i < sizes.searchRepeats; i++) {
      const t0 = performance.now();
      const page = await searcher.call<Page>("query", "message.search", { query: q.query });
      samples.push(performance.now() - t0);
      hits = page.results.length;
    }
    const p = percentiles(samples);
    rows.push([q.name, q.query, hits, p.p50, p.p99]);
    data[q.name] = { query: q.query, firstPage: hits, ...p };
  }
  return {
    tables: [
      {
        title: "11. Search",
        workload: `${Number(n).toLocaleString("en")} messages in all (${sizes.searchConversations} conversations x ${perConversation} of the searcher's, seeded in ${seedSeconds.toFixed(0)} s); message.search over all of them, first page of 20, ${sizes.searchRepeats} calls each after a warm-up`,
        columns: ["query", "text", "results (page)", "p50 ms", "p99 ms"],
        rows,
        notes: [
          "the searcher is in every seeded conversation: the widest visible window there is",
          "target p99 <= 100 ms on Postgres",
        ],
      },
    ],
    data,
  };
}
