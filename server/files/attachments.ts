import { asc, inArray } from "drizzle-orm";
import { files } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import type { WireAttachment } from "../realtime/events";

/** The attachments of some messages (by message id), in upload order: one query for a whole page. */
export async function attachmentsOf(db: DbOrTx, messageIds: bigint[]): Promise<Map<string, WireAttachment[]>> {
  const byMessage = new Map<string, WireAttachment[]>();
  if (messageIds.length === 0) return byMessage;
  const rows = await db
    .select()
    .from(files)
    .where(inArray(files.messageId, messageIds))
    .orderBy(asc(files.createdAt), asc(files.id));
  for (const row of rows) {
    const key = String(row.messageId);
    const list = byMessage.get(key) ?? [];
    list.push({
      id: row.id,
      name: row.name,
      mime: row.mime,
      size: row.size,
      width: row.width,
      height: row.height,
      thumbnail: row.thumbnailKey !== null,
    });
    byMessage.set(key, list);
  }
  return byMessage;
}
