import { sql } from "drizzle-orm";
import { bigint, foreignKey, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { conversations } from "./conversations";
import { messages } from "./messages";
import { users } from "./users";

// An uploaded file: unattached until a message.send claims it (then it lives and dies with that message).
export const files = pgTable(
  "files",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    uploaderId: uuid("uploader_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // Detected from the bytes, never taken from the client.
    mime: text("mime").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    width: integer("width"),
    height: integer("height"),
    storageKey: text("storage_key").notNull(),
    thumbnailKey: text("thumbnail_key"),
    // Set by the send that attaches it, in the send's one statement.
    conversationId: uuid("conversation_id").references(() => conversations.id, { onDelete: "cascade" }),
    messageId: bigint("message_id", { mode: "bigint" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Checked at the end of the send's statement: a claim whose message was not written fails the whole send.
    foreignKey({ name: "files_message_fk", columns: [t.messageId], foreignColumns: [messages.id] }).onDelete("cascade"),
    // History: the attachments of a page of messages.
    index("files_message_idx").on(t.messageId),
    // The sweep of unused uploads.
    index("files_unattached_created_idx").on(t.createdAt).where(sql`${t.messageId} is null`),
  ],
);

export type StoredFile = typeof files.$inferSelect;
