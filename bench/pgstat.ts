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
 * 10 s later when another backend holds the stats lock. `anchor` is a table
 * that only ever gets inserts: once its insert counter equals its row count,
 * every write before now has been reported; then wait until two readings a
 * second apart agree (bounded).
 */
export async function settledWrites(db: Db, tables: string[], anchor: string): Promise<WriteCounts> {
  const deadline = Date.now() + 20_000;
  const flushOwn = () => db.execute(sql`select pg_stat_force_next_flush()`);
  const rowsOf = async () => {
    const [row] = await queryRows<{ n: string | number }>(
      db,
      sql`select count(*)::text as n from ${sql.identifier(anchor)}`,
    );
    return Number(row.n);
  };
  await flushOwn();
  let last = await read(db, tables);
  const rows = await rowsOf();
  for (let stable = 0; Date.now() < deadline && (stable < 1 || (last.inserts[anchor] ?? 0) < rows); ) {
    await sleep(1000);
    await flushOwn();
    const now = await read(db, tables);
    stable = now.writes === last.writes ? stable + 1 : 0;
    last = now;
  }
  return last;
}
