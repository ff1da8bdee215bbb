import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "./client";
import { type GroupCommitOptions, groupCommitRows, groupCommitStats } from "./group-commit";
import { createTestDb, type TestDb, testDrivers } from "./testing";

const insertKey = () =>
  sql`insert into group_commit_probe (k, at) values (${sql.placeholder("k")}, clock_timestamp()) returning k, xmin::text as x`;

// One group in flight: the first execution runs alone, everything queued behind it shares the next group.
const oneAtATime: GroupCommitOptions = { maxInFlight: 1, maxGroup: 64, orderKey: (v) => v.k as string };

describe.each(testDrivers)("group commit (%s)", (driver) => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb(driver, { maxConnections: 4 });
    await handle.db.execute(sql`create table group_commit_probe (k text primary key, at timestamptz not null)`);
  });
  afterAll(async () => {
    await handle.close();
  });

  const run = (k: string, options = oneAtATime) =>
    groupCommitRows<{ k: string; x: string }>(handle.db, "group_commit_probe_insert", insertKey, { k }, options);

  it("runs executions that wait behind one in flight as one transaction, each with its own rows", async () => {
    const before = { ...groupCommitStats(handle.db) };
    const keys = ["a1", "a2", "a3", "a4", "a5", "a6"];
    const results = await Promise.all(keys.map((k) => run(k)));
    expect(results.map((rows) => rows.map((r) => r.k))).toEqual(keys.map((k) => [k]));
    // a1 alone; a2..a6 committed together.
    const xids = new Set(results.slice(1).map(([row]) => row.x));
    expect(xids.size).toBe(1);
    expect(results[0][0].x).not.toBe([...xids][0]);
    const after = groupCommitStats(handle.db);
    expect(after.groups - before.groups).toBe(1);
    expect(after.grouped - before.grouped).toBe(5);
    expect(after.retriedAlone - before.retriedAlone).toBe(0);
  });

  it("runs a group's statements in orderKey order, so groups take row locks in one order", async () => {
    const keys = ["o0", "o5", "o3", "o9", "o1"];
    await Promise.all(keys.map((k) => run(k)));
    const rows = await queryRows<{ k: string }>(
      handle.db,
      sql`select k from group_commit_probe where k like 'o%' and k <> 'o0' order by at`,
    );
    expect(rows.map((r) => r.k)).toEqual(["o1", "o3", "o5", "o9"]);
  });

  it("when one statement fails, the group rolls back and each runs alone: only that one fails", async () => {
    await handle.db.execute(sql`insert into group_commit_probe (k, at) values ('dup', now())`);
    const before = { ...groupCommitStats(handle.db) };
    const settled = await Promise.allSettled(["b0", "b1", "dup", "b2", "b3"].map((k) => run(k)));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
    const failure = settled[2] as PromiseRejectedResult;
    expect(String(failure.reason?.cause ?? failure.reason)).toMatch(/duplicate key|unique/i);
    const after = groupCommitStats(handle.db);
    // b0 ran alone; b1, dup, b2, b3 were a group that failed and ran again one by one.
    expect(after.retriedAlone - before.retriedAlone).toBe(4);
    const [{ n }] = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::int as n from group_commit_probe where k in ('b0', 'b1', 'b2', 'b3', 'dup')`,
    );
    expect(n).toBe(5);
  });

  it("keeps at most maxGroup executions in a group and maxInFlight groups running", async () => {
    const before = { ...groupCommitStats(handle.db) };
    const keys = Array.from({ length: 21 }, (_, i) => `m${String(i).padStart(2, "0")}`);
    const results = await Promise.all(
      keys.map((k) => run(k, { maxInFlight: 1, maxGroup: 5, orderKey: (v) => v.k as string })),
    );
    expect(results.flat().map((r) => r.k)).toEqual(keys);
    const after = groupCommitStats(handle.db);
    // 1 alone, then 20 queued: four groups of five.
    expect(after.groups - before.groups).toBe(4);
    expect(after.grouped - before.grouped).toBe(20);
    expect(new Set(results.map(([row]) => row.x)).size).toBe(5);
  });
});
