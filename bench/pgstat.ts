// Rows written, from pg_stat_user_tables: inserts + updates + deletes.
import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { Db } from "@/db/types";
import { sleep } from "./stats";

export const CHORUS_TABLES = ["users", "conversations", "members", "messages", "mentions", "outbox"];

async function read(db: Db, tables: string[]): Promise<{ writes: number; inserts: Record<string, number> }> {
  const names = `{${tables.join(",")}}`;
  const rows = await queryRows<{ relname: string; writes: string | number; inserts: string | number }>(
    db,
    sql`select relname, (n_tup_ins + n_tup_upd + n_tup_del)::text as writes, n_tup_ins::text as inserts
        from pg_stat_user_tables where relname = any(${names}::text[])`,
  );
  return {
    writes: rows.reduce((sum, r) => sum + Number(r.writes), 0),
    inserts: Object.fromEntries(rows.map((r) => [r.relname, Number(r.inserts)])),
  };
}

export type WriteCounts = Awaited<ReturnType<typeof read>>;

/**
 * Backends report their counters when idle, at most once a second, and up to
 * 10 s later when another backend holds the stats lock. So wait until the
 * inserts we know happened (`expect`: table -> rows inserted since `since`)
 * are counted, then until two readings a second apart agree (bounded).
 */
export async function settledWrites(
  db: Db,
  tables: string[],
  since?: WriteCounts,
  expect: Record<string, number> = {},
): Promise<WriteCounts> {
  const deadline = Date.now() + 20_000;
  const flushOwn = () => db.execute(sql`select pg_stat_force_next_flush()`);
  await flushOwn();
  let last = await read(db, tables);
  const reached = (c: WriteCounts) =>
    Object.entries(expect).every(([table, n]) => (c.inserts[table] ?? 0) - (since?.inserts[table] ?? 0) >= n);
  for (let stable = 0; Date.now() < deadline && (stable < 1 || !reached(last)); ) {
    await sleep(1000);
    await flushOwn();
    const now = await read(db, tables);
    stable = now.writes === last.writes ? stable + 1 : 0;
    last = now;
  }
  return last;
}
