import { createDb, type DbHandle } from "@/db/client";
import { migrate } from "@/db/migrate";
import type { Db } from "@/db/types";
import { env } from "./env";
import { logger } from "./logger";

// One handle per process, kept on globalThis: the custom start script and
// Next's bundled route modules must share it (PGlite has no folder lock), and
// dev-mode reloads must not open a second one.
const globalForDb = globalThis as unknown as { chorusDb?: Promise<DbHandle> };

export function getAppDbHandle(): Promise<DbHandle> {
  globalForDb.chorusDb ??= (async () => {
    const handle = await createDb({
      databaseUrl: env.DATABASE_URL,
      pgliteDir: env.PGLITE_DIR,
      // Set by scripts/start.mjs to the build's template; unset (dev, tests) runs initdb.
      pgliteTemplate: process.env.CHORUS_PGLITE_TEMPLATE,
      maxConnections: env.DATABASE_POOL_SIZE,
    });
    await migrate(handle);
    logger.info({ driver: handle.driver }, "database ready");
    return handle;
  })();
  return globalForDb.chorusDb;
}

export async function getAppDb(): Promise<Db> {
  return (await getAppDbHandle()).db;
}

export async function closeAppDb(): Promise<void> {
  const handle = globalForDb.chorusDb;
  globalForDb.chorusDb = undefined;
  if (handle) await (await handle).close();
}
