import { readFileSync } from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { gt, sql } from "drizzle-orm";
import { appInstances } from "@/db/schema";
import { queryRows } from "@/db/client";
import type { Db } from "@/db/types";
import { logger } from "../logger";

export const INSTANCE_BEAT_MS = 15_000;

export type InstanceRow = { id: string; version: string; node: string; startedAt: Date; seenAt: Date };

export type Health = {
  instances: InstanceRow[];
  postgres: string;
  databaseBytes: number;
  outbox: { pending: number; oldestPendingSeconds: number | null };
  users: { total: number; deactivated: number };
};

/**
 * Records this process in app_instances every few seconds so the admin area
 * can list running instances and their versions; stale rows are dropped.
 */
export function startInstanceBeat(db: Db, version: string, options: { beatMs?: number } = {}) {
  const beatMs = options.beatMs ?? INSTANCE_BEAT_MS;
  const id = randomUUID();
  const startedAt = new Date();
  const beat = async () => {
    try {
      await db
        .insert(appInstances)
        .values({ id, version, node: process.versions.node, startedAt, seenAt: sql`now()` })
        .onConflictDoUpdate({ target: appInstances.id, set: { seenAt: sql`now()` } });
      await db.execute(sql`delete from app_instances where seen_at < now() - interval '1 day'`);
    } catch (error) {
      logger.warn({ err: error, domain: "admin" }, "recording this instance failed; retrying on the next beat");
    }
  };
  let running = beat();
  const timer = setInterval(() => {
    running = running.then(beat);
  }, beatMs);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await running;
      await db.execute(sql`delete from app_instances where id = ${id}`);
    },
  };
}

/**
 * What an operator checks first: which versions are running, whether
 * announcements are piling up (Soketi unreachable), how big the database is.
 */
export async function siteHealth(db: Db, options: { now?: Date; beatMs?: number } = {}): Promise<Health> {
  const now = options.now ?? new Date();
  const live = new Date(now.getTime() - 3 * (options.beatMs ?? INSTANCE_BEAT_MS));
  const instances = await db
    .select()
    .from(appInstances)
    .where(gt(appInstances.seenAt, live))
    .orderBy(appInstances.startedAt);
  const [row] = await queryRows<{
    postgres: string;
    database_bytes: string | number;
    pending: string | number;
    oldest_pending_seconds: string | number | null;
    total: string | number;
    deactivated: string | number;
  }>(
    db,
    sql`select current_setting('server_version') as postgres,
          pg_database_size(current_database()) as database_bytes,
          (select count(*) from outbox where processed_at is null) as pending,
          (select extract(epoch from now() - min(created_at)) from outbox where processed_at is null)
            as oldest_pending_seconds,
          (select count(*) from users) as total,
          (select count(*) from users where deactivated_at is not null) as deactivated`,
  );
  return {
    instances,
    postgres: row.postgres,
    databaseBytes: Number(row.database_bytes),
    outbox: {
      pending: Number(row.pending),
      oldestPendingSeconds: row.oldest_pending_seconds === null ? null : Math.round(Number(row.oldest_pending_seconds)),
    },
    users: { total: Number(row.total), deactivated: Number(row.deactivated) },
  };
}

/** This build's version, from the package.json it runs from. */
export function appVersion(root = process.env.CHORUS_ROOT ?? process.cwd()): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}
