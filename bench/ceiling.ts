// Section 8: this machine's raw durable insert rate, the yardstick for send throughput.
import { sql } from "drizzle-orm";
import { createDb } from "@/db/client";
import type { Db } from "@/db/types";
import type { BenchContext } from "./context";

async function insertLoop(db: Db, workers: number, seconds: number): Promise<number> {
  let rows = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        await db.execute(sql`insert into bench_scratch (body) values ('a durable single-row insert')`);
        rows++;
      }
    }),
  );
  return rows / ((performance.now() - start) / 1000);
}

export async function rawInsertRates(ctx: BenchContext): Promise<{ one: number; many: number; connections: number }> {
  const { target, sizes } = ctx;
  await target.db.execute(
    sql`create table if not exists bench_scratch (id bigserial primary key, body text not null, created_at timestamptz not null default now())`,
  );
  ctx.log("ceiling: single-row INSERT loop over one connection");
  const single = target.handle.url ? await createDb({ databaseUrl: target.handle.url, maxConnections: 1 }) : null;
  const one = await insertLoop(single?.db ?? target.db, 1, sizes.ceilingSeconds);
  await single?.close();
  const connections = sizes.ceilingConnections;
  ctx.log(`ceiling: single-row INSERT loop over ${connections} connections`);
  const pool = target.handle.url
    ? await createDb({ databaseUrl: target.handle.url, maxConnections: connections })
    : null;
  const many = await insertLoop(pool?.db ?? target.db, connections, sizes.ceilingSeconds);
  await pool?.close();
  await target.db.execute(sql`drop table bench_scratch`);
  return { one, many, connections };
}
