import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const presenceStatuses = ["online", "away", "busy", "offline"] as const;
export type PresenceStatus = (typeof presenceStatuses)[number];

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    username: text("username").notNull(),
    displayName: text("display_name").notNull(),
    avatarUrl: text("avatar_url"),
    passwordHash: text("password_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    // Highest group version among the user's groups: sync.since answers
    // "nothing changed" from this one row (DESIGN invariant 6).
    syncVersion: bigint("sync_version", { mode: "number" }).notNull().default(0),
    // Status the user chose (busy, away) or null for automatic.
    presenceManual: text("presence_manual").$type<PresenceStatus>(),
    // Automatic status from webhooks and heartbeats.
    presenceStatus: text("presence_status").$type<PresenceStatus>().notNull().default("offline"),
    presenceExpiresAt: timestamp("presence_expires_at", { withTimezone: true }),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    // Notification defaults: a conversation without its own level follows these.
    notifyDmLevel: text("notify_dm_level").$type<"all" | "mentions" | "none">().notNull().default("all"),
    // Null: "all" for groups up to 100 members, "mentions" above.
    notifyGroupLevel: text("notify_group_level").$type<"all" | "mentions" | "none">(),
    // Off: pushes and alerts say who wrote, never what.
    notifyPreview: boolean("notify_preview").notNull().default(true),
  },
  (t) => [
    uniqueIndex("users_username_lower_uq").on(sql`lower(${t.username})`),
    // Mention autocomplete: prefix search on username and display name (LIKE 'pre%' under any collation).
    index("users_username_prefix_idx").on(sql`lower(${t.username}) text_pattern_ops`),
    index("users_display_name_prefix_idx").on(sql`lower(${t.displayName}) text_pattern_ops`),
    // Expired heartbeats are swept by this index.
    index("users_presence_expiry_idx").on(t.presenceExpiresAt),
    check("users_notify_dm_level_ck", sql`${t.notifyDmLevel} in ('all', 'mentions', 'none')`),
    check("users_notify_group_level_ck", sql`${t.notifyGroupLevel} in ('all', 'mentions', 'none')`),
  ],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
