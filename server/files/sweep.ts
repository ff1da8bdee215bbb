import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { Db } from "@/db/types";
import { logger } from "../logger";
import type { FileStorage } from "./storage";

const log = logger.child({ domain: "files" });

export const UNUSED_UPLOAD_HOURS = 24;

/**
 * Deletes uploads no message claimed within `olderThanHours`: the rows first
 * (skipping any a send is claiming right now), then their bytes. A crash
 * between the two leaves unreferenced bytes, never a row without bytes.
 */
export async function sweepUnusedUploads(
  db: Db,
  storage: FileStorage,
  options: { olderThanHours?: number; limit?: number } = {},
): Promise<{ deleted: number }> {
  const hours = options.olderThanHours ?? UNUSED_UPLOAD_HOURS;
  const rows = await queryRows<{ storage_key: string; thumbnail_key: string | null }>(
    db,
    sql`delete from files where id in (
          select id from files
          where message_id is null and created_at < now() - make_interval(hours => ${hours})
          order by created_at limit ${options.limit ?? 500}
          for update skip locked)
        returning storage_key, thumbnail_key`,
  );
  for (const row of rows) {
    for (const key of [row.storage_key, row.thumbnail_key]) {
      if (key)
        await storage.delete(key).catch((error: unknown) => log.error({ err: error, key }, "file delete failed"));
    }
  }
  if (rows.length > 0) log.info({ deleted: rows.length }, "unused uploads deleted");
  return { deleted: rows.length };
}

/** Background worker: sweeps unused uploads every few minutes. */
export function startUploadSweeper(db: Db, storage: FileStorage, options: { intervalMs?: number } = {}) {
  const intervalMs = options.intervalMs ?? 5 * 60_000;
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepUnusedUploads(db, storage)
      .catch((error: unknown) => log.error({ err: error }, "upload sweep failed"))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
