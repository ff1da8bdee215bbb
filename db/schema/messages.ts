import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  foreignKey,
  customType,
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

export type LinkState = "pending" | "ready" | "failed" | "removed";
export type LinkPreviewData = {
  url: string;
  title: string | null;
  description: string | null;
  siteName: string | null;
  imageUrl: string | null;
};

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

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
    // A tombstone: body and reactions are gone, the row and its seq stay.
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    // The message this one replies to, in the same conversation.
    replyToSeq: bigint("reply_to_seq", { mode: "number" }),
    // The conversation's change counter when this message was last edited, deleted or reacted to (0: never).
    changeSeq: bigint("change_seq", { mode: "number" }).notNull().default(0),
    // emoji -> count, kept beside the message so history never counts reaction rows.
    reactionCounts: jsonb("reaction_counts").$type<Record<string, number>>(),
    // Link preview of the body's first http(s) link: 'pending' until the preview worker fetched it.
    linkUrl: text("link_url"),
    linkState: text("link_state").$type<LinkState>(),
    linkPreview: jsonb("link_preview").$type<LinkPreviewData>(),
    // message.search: words of the body ('simple': no stemming, so every language is treated alike).
    searchTsv: tsvector("search_tsv").generatedAlwaysAs(sql`to_tsvector('simple', body)`),
  },
  (t) => [
    primaryKey({ name: "messages_pk", columns: [t.conversationId, t.seq] }),
    uniqueIndex("messages_id_uq").on(t.id),
    // Idempotent send: a resend with the same client id finds the original.
    uniqueIndex("messages_sender_client_msg_uq").on(t.senderId, t.clientMsgId),
    check("messages_kind_ck", sql`${t.kind} in ('text', 'system')`),
    index("messages_mentions_all_idx").on(t.conversationId, t.seq).where(sql`${t.mentionsAll}`),
    // message.changes: the messages changed after a conversation's change count, O(changed).
    index("messages_changes_idx").on(t.conversationId, t.changeSeq).where(sql`${t.changeSeq} > 0`),
    // Unread leaves tombstones out: counting those in a member's unread window reads only deleted rows.
    index("messages_deleted_idx").on(t.conversationId, t.seq).where(sql`${t.deletedAt} is not null`),
    // The preview worker's queue: messages whose link is not fetched yet.
    index("messages_link_pending_idx").on(t.id).where(sql`${t.linkState} = 'pending'`),
    // message.search full-text; its substring indexes (pg_trgm; CJK characters and pairs) are
    // hand-written in migrations 0003 and 0006.
    index("messages_search_tsv_idx").using("gin", t.searchTsv),
  ],
);

// One row per (message, emoji, user): bounded per message by MAX_REACTION_EMOJI x members.
export const reactions = pgTable(
  "message_reactions",
  {
    conversationId: uuid("conversation_id").notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    emoji: text("emoji").notNull(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // message.reactions pages who reacted with one emoji along this key.
    primaryKey({ name: "message_reactions_pk", columns: [t.conversationId, t.seq, t.emoji, t.userId] }),
    foreignKey({
      name: "message_reactions_message_fk",
      columns: [t.conversationId, t.seq],
      foreignColumns: [messages.conversationId, messages.seq],
    }).onDelete("cascade"),
    // History's "me" flags: the caller's own reactions on a page of messages.
    index("message_reactions_user_idx").on(t.conversationId, t.userId, t.seq),
  ],
);

// Link previews by URL, shared by every message that links there; a null preview is a failed fetch.
export const linkPreviews = pgTable("link_previews", {
  url: text("url").primaryKey(),
  preview: jsonb("preview").$type<LinkPreviewData>(),
  fetchedAt: timestamp("fetched_at", { withTimezone: true }).notNull().defaultNow(),
});

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
