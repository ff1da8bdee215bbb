import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";

export type ReadableFile = {
  id: string;
  name: string;
  mime: string;
  size: number;
  storageKey: string;
  thumbnailKey: string | null;
};

/**
 * The file if this user may read it, else null (callers answer 404 either way,
 * so nobody learns that a file exists): its uploader before it is attached;
 * afterwards, members who can see the carrying message: after their
 * joined_seq, up to their left_seq, and never once the message is deleted.
 */
export async function readableFile(db: DbOrTx, userId: string, fileId: string): Promise<ReadableFile | null> {
  const [row] = await queryRows<{
    id: string;
    name: string;
    mime: string;
    size: number | string;
    storage_key: string;
    thumbnail_key: string | null;
  }>(
    db,
    sql`select f.id, f.name, f.mime, f.size, f.storage_key, f.thumbnail_key
        from files f
        where f.id = ${fileId}::uuid
          and ((f.message_id is null and f.uploader_id = ${userId}::uuid)
            or exists (
              select 1 from messages m
              join members mb on mb.conversation_id = m.conversation_id and mb.user_id = ${userId}::uuid
              where m.id = f.message_id and m.deleted_at is null and m.seq > mb.joined_seq
                and (mb.left_at is null or m.seq <= coalesce(mb.left_seq, mb.joined_seq))))`,
  );
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    mime: row.mime,
    size: Number(row.size),
    storageKey: row.storage_key,
    thumbnailKey: row.thumbnail_key,
  };
}
