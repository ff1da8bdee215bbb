import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { conversations } from "./conversations";
import { users } from "./users";

export const memberRoles = ["owner", "admin", "member"] as const;
export type MemberRole = (typeof memberRoles)[number];

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
    muted: boolean("muted").notNull().default(false),
    version: bigint("version", { mode: "number" }).notNull().default(0),
    joinedAt: timestamp("joined_at", { withTimezone: true }).notNull().defaultNow(),
    // Tombstone: a removal must reach sync, and history stays readable up to leftSeq.
    leftAt: timestamp("left_at", { withTimezone: true }),
    leftSeq: bigint("left_seq", { mode: "number" }),
  },
  (t) => [
    primaryKey({ name: "members_pk", columns: [t.conversationId, t.userId] }),
    check("members_role_ck", sql`${t.role} in ('owner', 'admin', 'member')`),
    // conversation.list: a user's conversations.
    index("members_user_idx").on(t.userId, t.conversationId),
    // sync.since: a group's member rows changed after a version.
    index("members_conversation_version_idx").on(t.conversationId, t.version),
  ],
);

export type Member = typeof members.$inferSelect;
