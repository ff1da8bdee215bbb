import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

export const conversationKinds = ["dm", "group"] as const;
export type ConversationKind = (typeof conversationKinds)[number];

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: text("kind").$type<ConversationKind>().notNull(),
    // "<smaller user id>:<larger user id>": opening a DM twice returns the same row.
    dmKey: text("dm_key").unique("conversations_dm_key_uq"),
    name: text("name"),
    avatarUrl: text("avatar_url"),
    announcement: text("announcement"),
    createdBy: uuid("created_by").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true }),
    lastMessagePreview: text("last_message_preview"),
    lastMessageSenderId: uuid("last_message_sender_id"),
    memberCount: integer("member_count").notNull().default(0),
    // Group info version, from the global version sequence.
    version: bigint("version", { mode: "number" }).notNull().default(0),
    // Counts edits, deletes and reaction changes; each changed message is stamped with it.
    changeSeq: bigint("change_seq", { mode: "number" }).notNull().default(0),
    archivedAt: timestamp("archived_at", { withTimezone: true }),
    // The owner's override of RETENTION_DAYS for this conversation (null: the global setting).
    retentionDays: integer("retention_days"),
    // Messages up to this seq were removed by retention: history shows the cut.
    retainedFromSeq: bigint("retained_from_seq", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    check("conversations_kind_ck", sql`${t.kind} in ('dm', 'group')`),
    index("conversations_last_message_at_idx").on(t.lastMessageAt),
  ],
);

export type Conversation = typeof conversations.$inferSelect;
