import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { Db } from "@/db/types";
import { AppError } from "../errors";
import { openChange, stampChange } from "../messaging/message-changes";
import { commitAndAnnounce } from "../realtime/announce";
import type { Publisher } from "../realtime/publisher";

export const removePreviewInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  seq: z.number("seq must be a number").int().min(1),
});

export type RemovePreviewInput = z.infer<typeof removePreviewInput>;

/**
 * The sender takes the link preview off their message, before or after it
 * arrived; members get message.updated with `linkPreview: null`, and a
 * preview fetched later stays off.
 */
export async function removeLinkPreview(
  db: Db,
  userId: string,
  input: RemovePreviewInput,
  deps: { publisher: Publisher },
) {
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const target = await openChange(tx, { userId, ...input });
    if (target.message.senderId !== userId)
      throw new AppError("FORBIDDEN", "Only the sender can remove a link preview");
    const [row] = await queryRows<{ link_state: string | null }>(
      tx,
      sql`select link_state from messages where conversation_id = ${input.conversationId}::uuid and seq = ${input.seq}::bigint`,
    );
    if (!row || row.link_state === null || row.link_state === "removed") return { removed: false };
    await stampChange(tx, target, { set: sql`link_preview = null, link_state = 'removed'`, linkPreview: null });
    return { removed: true };
  });
}
