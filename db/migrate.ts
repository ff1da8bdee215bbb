import path from "node:path";
import { sql } from "drizzle-orm";
import type { DbHandle } from "./client";

export const migrationsFolder = path.join(process.cwd(), "db", "migrations");

// Any number: only the key shared by every instance matters.
const MIGRATION_LOCK = 4_242_001;

/** Applies committed migrations; safe when several app instances start at once. */
export async function migrate(handle: DbHandle, folder = migrationsFolder): Promise<void> {
  if (handle.driver === "pglite") {
    const { migrate: run } = await import("drizzle-orm/pglite/migrator");
    // biome-ignore lint/suspicious/noExplicitAny: driver-specific handle
    await run(handle.db as any, { migrationsFolder: folder });
    return;
  }
  if (!handle.url) throw new Error("migrate: the postgres handle has no URL");
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate: run } = await import("drizzle-orm/postgres-js/migrator");
  // One dedicated connection holds a session lock while migrating.
  const client = postgres(handle.url, { max: 1, onnotice: () => {} });
  try {
    const db = drizzle(client);
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      await run(db, { migrationsFolder: folder });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
