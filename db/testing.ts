import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { createDb, type DbHandle, type DriverName } from "./client";
import { migrate } from "./migrate";

/** PGlite always; real Postgres too when TEST_DATABASE_URL is set (CI sets it). */
export const testDrivers: DriverName[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export type TestDb = DbHandle & { name: string };

/** A fresh, migrated database: in-memory PGlite, or a new database on TEST_DATABASE_URL's server. */
export async function createTestDb(driver: DriverName, options: { maxConnections?: number } = {}): Promise<TestDb> {
  if (driver === "pglite") {
    const handle = await createDb({ pgliteDir: "memory://" });
    await migrate(handle);
    return { ...handle, name: "pglite" };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `chorus_t_${randomBytes(6).toString("hex")}`;
  const admin = await createDb({ databaseUrl: adminUrl, maxConnections: 1 });
  await admin.db.execute(sql.raw(`create database ${name}`));
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await createDb({ databaseUrl: url.toString(), maxConnections: options.maxConnections ?? 10 });
  await migrate(handle);
  return {
    ...handle,
    name,
    close: async () => {
      await handle.close();
      const again = await createDb({ databaseUrl: adminUrl, maxConnections: 1 });
      await again.db.execute(sql.raw(`drop database if exists ${name} with (force)`));
      await again.close();
    },
  };
}
