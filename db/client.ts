import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { SQL } from "drizzle-orm";
import * as schema from "./schema";
import type { Db, DbOrTx } from "./types";

export type DriverName = "pglite" | "postgres";

export interface DbHandle {
  db: Db;
  driver: DriverName;
  /** postgres.js only: the URL, for the migrator's own connection. */
  url?: string;
  /**
   * postgres.js only: LISTEN on a channel over a connection of its own, which
   * reconnects and listens again by itself; `onListen` runs each time it does.
   */
  listen?: (channel: string, onNotify: (payload: string) => void, onListen: () => void) => Promise<void>;
  close: () => Promise<void>;
}

export interface DbOptions {
  /** postgres:// URL; unset means embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data folder; "memory://" for an in-memory database. */
  pgliteDir?: string;
  /** postgres.js pool size. */
  maxConnections?: number;
  /**
   * A PGlite data folder as a tarball (see db/pglite-template.ts): a new
   * folder starts as a copy of it instead of running initdb, which takes
   * seconds and leaves its memory in PGlite's WebAssembly heap for good.
   */
  pgliteTemplate?: string;
}

/**
 * Statements with more parameters than this are not kept prepared: their text
 * varies with list lengths (multi-row inserts, long `in` lists), and every
 * distinct text would stay prepared on its connection for good.
 */
const MAX_PREPARED_PARAMETERS = 64;

type PostgresSql = import("postgres").Sql;

/**
 * drizzle runs every unnamed query with `prepare: false`, so postgres.js sends
 * Parse+Describe, waits for the answer, then Bind+Execute: two round trips and
 * a fresh parse and plan per query (on a send, that was half the database
 * time). Keep short-parameter statements prepared per connection instead, in
 * and out of transactions.
 */
function preparing(client: PostgresSql): PostgresSql {
  return new Proxy(client, {
    get(target, property) {
      if (property === "unsafe") {
        return (query: string, parameters?: unknown[], queryOptions?: Record<string, unknown>) =>
          target.unsafe(
            query,
            parameters as never,
            (parameters?.length ?? 0) <= MAX_PREPARED_PARAMETERS ? { ...queryOptions, prepare: true } : queryOptions,
          );
      }
      if (property === "begin") {
        return (...args: unknown[]) => {
          const work = args.pop() as (tx: PostgresSql) => unknown;
          return (target.begin as (...a: unknown[]) => unknown)(...args, (tx: PostgresSql) => work(preparing(tx)));
        };
      }
      return Reflect.get(target, property, target);
    },
  });
}

/** The one factory for both drivers. */
export async function createDb(options: DbOptions = {}): Promise<DbHandle> {
  if (options.databaseUrl) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const client = postgres(options.databaseUrl, {
      max: options.maxConnections ?? 10,
      // While Postgres is down or restarting, a request fails within seconds
      // (SERVICE_UNAVAILABLE) instead of waiting 30 s for a connection.
      connect_timeout: 3,
      // postgres.js's default backoff grows with every failed connection of the
      // pool to 20 s, so a query queued during a restart waited long after the
      // server was back. Reconnect attempts to a down server cost little: keep them short.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
      onnotice: () => {},
    });
    const db = drizzle(preparing(client), { schema }) as unknown as Db;
    return {
      db,
      driver: "postgres",
      url: options.databaseUrl,
      listen: async (channel, onNotify, onListen) => {
        await client.listen(channel, onNotify, onListen);
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  // message.search's substring index needs pg_trgm, which PGlite ships as a loadable extension.
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const dir = options.pgliteDir ?? "./data/pglite";
  // Postgres's default 128 MB of shared buffers is most of an idle embedded
  // server's memory; a laptop-sized chat database is served as well by 16 MB.
  const pgliteOptions = {
    extensions: { pg_trgm },
    startParams: [
      ...PGlite.defaultStartParams,
      ...["-c", "shared_buffers=16MB", "-c", "work_mem=2MB", "-c", "maintenance_work_mem=16MB"],
    ],
  };
  let client: InstanceType<typeof PGlite>;
  if (dir.startsWith("memory://")) {
    client = new PGlite(dir, pgliteOptions);
  } else {
    const abs = path.resolve(dir);
    mkdirSync(abs, { recursive: true });
    const template = options.pgliteTemplate;
    // PG_VERSION is the first thing initdb writes: without it the folder holds no database.
    const fresh = !existsSync(path.join(abs, "PG_VERSION"));
    client = new PGlite(
      abs,
      fresh && template && existsSync(template)
        ? { ...pgliteOptions, loadDataDir: new Blob([readFileSync(template)]) }
        : pgliteOptions,
    );
  }
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  return { db, driver: "pglite", close: () => client.close() };
}

/** Runs raw SQL and returns its rows, the same shape on both drivers. */
export async function queryRows<T extends Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

/** A raw statement's rows on either driver: postgres.js answers an array, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
