import { readFileSync } from "node:fs";
import path from "node:path";
import { getTableName, isTable, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "./client";
import { migrate } from "./migrate";
import * as schema from "./schema";
import { users } from "./schema";

// The data model as the schema declares it, and the migrations committed for it.
const schemaTables = Object.values(schema)
  .filter((value) => isTable(value))
  .map((table) => getTableName(table))
  .sort();
const journal = JSON.parse(
  readFileSync(path.join(import.meta.dirname, "migrations", "meta", "_journal.json"), "utf8"),
) as {
  entries: unknown[];
};
import { createTestDb, type TestDb, testDrivers } from "./testing";

describe.each(testDrivers)("the database on %s", (driver) => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb(driver);
  });
  afterAll(async () => {
    await handle.close();
  });

  it("has every table of the data model after migrating", async () => {
    const rows = await queryRows<{ table_name: string }>(
      handle.db,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(schemaTables).toEqual(
      expect.arrayContaining(["conversations", "members", "mentions", "messages", "outbox", "users"]),
    );
    expect(rows.map((r) => r.table_name)).toEqual(schemaTables);
  });

  it("migrates again without changing anything", async () => {
    await migrate(handle);
    const rows = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(rows[0].n).toBe(journal.entries.length);
  });

  it("keeps usernames unique whatever their case", async () => {
    await handle.db.insert(users).values({ username: "Alice", displayName: "Alice", passwordHash: "x" });
    await expect(
      handle.db.insert(users).values({ username: "alice", displayName: "Other", passwordHash: "x" }),
    ).rejects.toThrow();
  });

  it("hands out versions from one global sequence", async () => {
    const [a] = await queryRows<{ v: string }>(handle.db, sql`select nextval('chorus_version_seq') as v`);
    const [b] = await queryRows<{ v: string }>(handle.db, sql`select nextval('chorus_version_seq') as v`);
    expect(Number(b.v)).toBe(Number(a.v) + 1);
  });
});

// Postgres only: PGlite runs in-process and keeps no per-connection statements.
describe.each(testDrivers.filter((d) => d === "postgres"))("statements on %s", (driver) => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb(driver, { maxConnections: 1 });
  });
  afterAll(async () => {
    await handle.close();
  });

  const preparedLike = async (marker: string) =>
    Number(
      (
        await queryRows<{ n: string }>(
          handle.db,
          sql`select count(*)::text as n from pg_prepared_statements where statement like ${`%${marker}%`} and statement not like '%pg_prepared_statements%'`,
        )
      )[0].n,
    );

  it("keeps a parameterized statement prepared on its connection, in and out of transactions", async () => {
    for (let i = 0; i < 3; i++) {
      await handle.db.execute(sql`select ${i}::int as marker_outside`);
      await handle.db.transaction((tx) => tx.execute(sql`select ${i}::int as marker_inside`));
    }
    // Once each, however often it ran: parsed and planned once, not on every call.
    expect(await preparedLike("marker_outside")).toBe(1);
    expect(await preparedLike("marker_inside")).toBe(1);
  });

  it("does not keep statements whose parameter lists vary in length", async () => {
    const many = Array.from({ length: 100 }, (_, i) => i);
    await handle.db.execute(
      sql`select ${sql.join(
        many.map((n) => sql`${n}::int`),
        sql`, `,
      )}, 'marker_long' as m`,
    );
    expect(await preparedLike("marker_long")).toBe(0);
  });
});
