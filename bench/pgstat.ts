// Rows written, from pg_stat_user_tables: inserts + updates + deletes.
import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { Db } from "@/db/types";
import { sleep } from "./stats";

export const CHORUS_TABLES = ["users", "conversations", "members", "messages", "mentions", "outbox"];

async function read(db: Db, tables: string[]): Promise<number> {
  const names = `{${tables.join(",")}}`;
  const [row] = await queryRows<{ writes: string | number }>(
    db,
    sql`select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text as writes
        from pg_stat_user_tables where relname = any(${names}::text[])`,
  );
  return Number(row.writes);
}

/**
 * Backends report their counters up to a second after going idle: read until
 * two readings agree (bounded), so a delta covers everything a workload wrote.
 */
export async function settledWrites(db: Db, tables: string[]): Promise<number> {
  await db.execute(sql`select pg_stat_force_next_flush()`);
  let last = await read(db, tables);
  const deadline = Date.now() + 15_000;
  for (let stable = 0; stable < 2 && Date.now() < deadline; ) {
    await sleep(700);
    await db.execute(sql`select pg_stat_force_next_flush()`);
    const now = await read(db, tables);
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}
