import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, queryRows } from "./client";
import { migrate } from "./migrate";
import { writePgliteTemplate } from "./pglite-template";

const journal = JSON.parse(readFileSync(path.join(import.meta.dirname, "migrations", "meta", "_journal.json"), "utf8"));

const tables = async (db: Parameters<typeof queryRows>[0]) =>
  (
    await queryRows<{ table_name: string }>(
      db,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    )
  ).map((r) => r.table_name);

describe("the embedded database's template (a new PGlite folder starts as a copy of it)", () => {
  let root: string;
  let template: string;
  let reference: string[];
  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "chorus-template-"));
    template = path.join(root, "template.tar");
    expect(await writePgliteTemplate(template)).toBeGreaterThan(0);
    // What initdb and the migrations make, for comparison.
    const made = await createDb({ pgliteDir: "memory://" });
    await migrate(made);
    reference = await tables(made.db);
    await made.close();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("gives a new folder every table and migration, keeps what is written there, and is not read again", async () => {
    const dir = path.join(root, "fresh");
    const first = await createDb({ pgliteDir: dir, pgliteTemplate: template });
    expect(await tables(first.db)).toEqual(reference);
    expect(reference).toContain("messages");
    await migrate(first);
    const applied = await queryRows<{ n: number }>(
      first.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(applied[0].n).toBe(journal.entries.length);
    // pg_trgm came along (message.search's index needs it).
    const similarity = await queryRows<{ s: number }>(first.db, sql`select similarity('chorus', 'chorum') as s`);
    expect(similarity[0].s).toBeGreaterThan(0);
    await first.db.execute(sql`create table template_probe (v text)`);
    await first.db.execute(sql`insert into template_probe values ('kept')`);
    await first.close();
    expect(existsSync(path.join(dir, "PG_VERSION"))).toBe(true);

    // A folder that holds a database opens as it is: the template would have wiped the probe.
    const again = await createDb({ pgliteDir: dir, pgliteTemplate: template });
    expect(await queryRows<{ v: string }>(again.db, sql`select v from template_probe`)).toEqual([{ v: "kept" }]);
    await again.close();
  });

  it("leaves a new folder to initdb when the template is missing", async () => {
    const dir = path.join(root, "no-template");
    const made = await createDb({ pgliteDir: dir, pgliteTemplate: path.join(root, "missing.tar") });
    expect(await tables(made.db)).toEqual([]);
    await made.close();
  });
});
