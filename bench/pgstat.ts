// Rows written, from pg_stat_user_tables: inserts + updates + deletes.
import { type SQL, sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { Db } from "@/db/types";
import { sleep } from "./stats";

export const CHORUS_TABLES = ["users", "conversations", "members", "messages", "mentions", "outbox"];

type Counts = { writes: number; inserts: Record<string, number>; updates: Record<string, number> };

async function read(db: Db, tables: string[]): Promise<Counts> {
  const names = `{${tables.join(",")}}`;
  const rows = await queryRows<{ relname: string; writes: string; inserts: string; updates: string }>(
    db,
    sql`select relname, (n_tup_ins + n_tup_upd + n_tup_del)::text as writes, n_tup_ins::text as inserts,
          n_tup_upd::text as updates
        from pg_stat_user_tables where relname = any(${names}::text[])`,
  );
  return {
    writes: rows.reduce((sum, r) => sum + Number(r.writes), 0),
    inserts: Object.fromEntries(rows.map((r) => [r.relname, Number(r.inserts)])),
    updates: Object.fromEntries(rows.map((r) => [r.relname, Number(r.updates)])),
  };
}

export type WriteCounts = Awaited<ReturnType<typeof read>>;

/** A counter known to have caught up once it reaches the row count of `countQuery`. */
export type Anchor = { table: string; counter: "inserts" | "updates"; countQuery: SQL };

export const CHORUS_ANCHORS: Anchor[] = [
  // Seeding writes users, conversations and members on other pooled connections, whose
  // counters may arrive late: never take a reading before those inserts are all counted.
  { table: "users", counter: "inserts", countQuery: sql`select count(*)::text as n from users` },
  { table: "conversations", counter: "inserts", countQuery: sql`select count(*)::text as n from conversations` },
  { table: "members", counter: "inserts", countQuery: sql`select count(*)::text as n from members` },
  // Messages are only ever inserted. Every update of an outbox row leaves a trace to count it
  // by, possibly on another connection than the insert: marked done once (processed_at), each
  // claim by the background publisher (attempts), planned for push once (push_planned_at).
  // "At least one update per published row" was too loose: rows claimed and then marked done
  // (seeding's events) let a reading through before the last batch of marks was reported.
  { table: "messages", counter: "inserts", countQuery: sql`select count(*)::text as n from messages` },
  {
    table: "outbox",
    counter: "updates",
    countQuery: sql`select (count(processed_at) + coalesce(sum(attempts), 0) + count(push_planned_at))::text as n
                    from outbox`,
  },
];

export const BASELINE_ANCHORS: Anchor[] = [
  { table: "bl_members", counter: "inserts", countQuery: sql`select count(*)::text as n from bl_members` },
  { table: "bl_unread", counter: "inserts", countQuery: sql`select count(*)::text as n from bl_unread` },
  { table: "bl_messages", counter: "inserts", countQuery: sql`select count(*)::text as n from bl_messages` },
];

/**
 * Backends report their counters when idle, at most once a second, and up to
 * 10 s later when another backend holds the stats lock. Once every anchor's
 * counter has reached its row count, the writes before now have been
 * reported; then wait until two readings a second apart agree (bounded).
 */
export async function settledWrites(db: Db, tables: string[], anchors: Anchor[]): Promise<WriteCounts> {
  const deadline = Date.now() + 20_000;
  const flushOwn = () => db.execute(sql`select pg_stat_force_next_flush()`);
  // Counted again on every reading: a row marked published a few milliseconds after the
  // deliveries arrived (marks are batched) must be reported too, not left to the next reading.
  const targets = () =>
    Promise.all(anchors.map(async (a) => Number((await queryRows<{ n: string }>(db, a.countQuery))[0].n)));
  const caughtUp = (c: WriteCounts, t: number[]) => anchors.every((a, i) => (c[a.counter][a.table] ?? 0) >= t[i]);
  await flushOwn();
  let wanted = await targets();
  let last = await read(db, tables);
  for (let stable = 0; Date.now() < deadline && (stable < 1 || !caughtUp(last, wanted)); ) {
    await sleep(1000);
    await flushOwn();
    wanted = await targets();
    const now = await read(db, tables);
    stable = now.writes === last.writes ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** The process ids of the Postgres backends serving this database (the app's pool and the bench's), for their CPU. */
export async function postgresBackendPids(db: Db): Promise<number[]> {
  const rows = await queryRows<{ pid: number }>(
    db,
    sql`select pid from pg_stat_activity where datname = current_database() and backend_type = 'client backend'`,
  );
  return rows.map((r) => Number(r.pid));
}
