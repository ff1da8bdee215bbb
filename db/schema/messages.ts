import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { conversations } from "./conversations";
import { users } from "./users";

export const messageKinds = ["text", "system"] as const;
export type MessageKind = (typeof messageKinds)[number];

// ONE row per message, whatever the group size (DESIGN invariant 1).
export const messages = pgTable(
  "messages",
  {
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    // Snowflake-style, globally unique and time ordered; a string on the wire.
    id: bigint("id", { mode: "bigint" }).notNull(),
    senderId: uuid("sender_id").references(() => users.id),
    clientMsgId: text("client_msg_id"),
    kind: text("kind").$type<MessageKind>().notNull().default("text"),
    body: text("body").notNull(),
    // System messages: what happened, for clients to render in their language.
    meta: jsonb("meta").$type<Record<string, unknown>>(),
    // @all / @here: one flag instead of a mention row per member.
    mentionsAll: boolean("mentions_all").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    editedAt: timestamp("edited_at", { withTimezone: true }),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: "messages_pk", columns: [t.conversationId, t.seq] }),
    uniqueIndex("messages_id_uq").on(t.id),
    // Idempotent send: a resend with the same client id finds the original.
    uniqueIndex("messages_sender_client_msg_uq").on(t.senderId, t.clientMsgId),
    check("messages_kind_ck", sql`${t.kind} in ('text', 'system')`),
    index("messages_mentions_all_idx").on(t.conversationId, t.seq).where(sql`${t.mentionsAll}`),
  ],
);

// Explicit @username mentions: rows bounded by the mentions in a body, never by group size.
export const mentions = pgTable(
  "mentions",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ name: "mentions_pk", columns: [t.userId, t.conversationId, t.seq] })],
);

export type Message = typeof messages.$inferSelect;
