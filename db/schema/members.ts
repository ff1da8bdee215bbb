import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { conversations } from "./conversations";
import { users } from "./users";

export const memberRoles = ["owner", "admin", "member"] as const;
export type MemberRole = (typeof memberRoles)[number];

/** How loudly a conversation notifies: every message, mentions (and DMs) only, or never (muted). */
export const notifyLevels = ["all", "mentions", "none"] as const;
export type NotifyLevel = (typeof notifyLevels)[number];

export const members = pgTable(
  "members",
  {
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role").$type<MemberRole>().notNull().default("member"),
    // History is visible after this seq; unread never counts before it.
    joinedSeq: bigint("joined_seq", { mode: "number" }).notNull().default(0),
    readSeq: bigint("read_seq", { mode: "number" }).notNull().default(0),
    deliveredSeq: bigint("delivered_seq", { mode: "number" }).notNull().default(0),
    // Null follows the user's default for DMs or groups; "none" is muted.
    notifyLevel: text("notify_level").$type<NotifyLevel>(),
    // No pushes or alerts until then; badges still count.
    snoozeUntil: timestamp("snooze_until", { withTimezone: true }),
    version: bigint("version", { mode: "number" }).notNull().default(0),
    joinedAt: timestamp("joined_at", { withTimezone: true }).notNull().defaultNow(),
    // Tombstone: a removal must reach sync, and history stays readable up to leftSeq.
    leftAt: timestamp("left_at", { withTimezone: true }),
    leftSeq: bigint("left_seq", { mode: "number" }),
  },
  (t) => [
    primaryKey({ name: "members_pk", columns: [t.conversationId, t.userId] }),
    check("members_role_ck", sql`${t.role} in ('owner', 'admin', 'member')`),
    check("members_notify_level_ck", sql`${t.notifyLevel} in ('all', 'mentions', 'none')`),
    // conversation.list: a user's conversations.
    index("members_user_idx").on(t.userId, t.conversationId),
    // sync.since: a group's member rows changed after a version.
    index("members_conversation_version_idx").on(t.conversationId, t.version),
    // Events about old messages: does any current member's history start after this seq?
    index("members_conversation_joined_idx").on(t.conversationId, t.joinedSeq),
  ],
);

export type Member = typeof members.$inferSelect;
