import { getTableName, is, sql } from "drizzle-orm";
import { expect } from "vitest";
import { PgTable } from "drizzle-orm/pg-core";
import { queryRows } from "@/db/client";
import * as schema from "@/db/schema";
import type { DbOrTx } from "@/db/types";

/** Every table of db/schema, found at run time so a new table is covered without editing this file. */
export const schemaTables: string[] = (Object.values(schema) as unknown[])
  .flatMap((value) => (is(value, PgTable) ? [getTableName(value)] : []))
  .sort();

// Delivery bookkeeping: written after commit by whoever publishes the row (a few ms later, batched),
// so it moves under a refused call without that call writing anything.
const bookkeeping: Record<string, string[]> = {
  outbox: ["attempts", "next_attempt_at", "processed_at", "last_error"],
};

export type Footprint = Record<string, { rows: number; hash: string }>;

/**
 * Row count and a hash of the contents of every table: a refused call must
 * leave both unchanged (an update shows up in the hash, an insert in both).
 */
export async function footprint(db: DbOrTx): Promise<Footprint> {
  const parts = schemaTables.map((name) => {
    const row = sql.raw(["to_jsonb(t)", ...(bookkeeping[name] ?? []).map((c) => `'${c}'`)].join(" - "));
    return sql`select ${name} as name, count(*)::int as rows,
      md5(coalesce(string_agg((${row})::text, '|' order by (${row})::text), '')) as hash
      from ${sql.identifier(name)} t`;
  });
  const rows = await queryRows<{ name: string; rows: number | string; hash: string }>(
    db,
    sql.join(parts, sql` union all `),
  );
  return Object.fromEntries(rows.map((r) => [r.name, { rows: Number(r.rows), hash: r.hash }]));
}

/** Row counts only, for messages that say which table moved. */
export const rowCounts = (print: Footprint) =>
  Object.fromEntries(Object.entries(print).map(([name, { rows }]) => [name, rows]));

/**
 * The next transaction id of the server: it moves whenever a transaction
 * writes (or locks rows), so while it stands still nothing can have been
 * written and the full footprint need not be taken again. Cluster-wide on
 * Postgres, so other databases' writers move it too (a false alarm, never a
 * missed write).
 */
export async function writeWatermark(db: DbOrTx): Promise<string> {
  const [row] = await queryRows<{ xmax: string }>(
    db,
    sql`select pg_snapshot_xmax(pg_current_snapshot())::text as xmax`,
  );
  return row.xmax;
}

/**
 * "Nothing was written" without a full snapshot per case: the full footprint
 * is retaken only when the write watermark moved since it was taken.
 */
export class WriteGuard {
  private print: Footprint | null = null;
  private mark: string | null = null;
  constructor(private readonly db: DbOrTx) {}

  /** Before a case: make sure the snapshot describes the database as it is now. */
  async arm() {
    const now = await writeWatermark(this.db);
    if (this.print && now === this.mark) return;
    // The mark is read before the snapshot: a write between the two can only cause a needless recheck.
    this.print = await footprint(this.db);
    this.mark = now;
  }

  /** After a refused case: nothing may differ from the snapshot. */
  async expectUnchanged(what: string) {
    const now = await writeWatermark(this.db);
    if (now === this.mark) return;
    const after = await footprint(this.db);
    expect(rowCounts(after), `${what} changed row counts`).toEqual(rowCounts(this.print as Footprint));
    expect(after, `${what} changed stored rows`).toEqual(this.print);
    this.print = after;
    this.mark = now;
  }
}
