import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

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
    // Carried in each session JWT at sign-in; raising it ends every session of the user.
    sessionEpoch: integer("session_epoch").notNull().default(0),
    // Set by an admin: sign-in refused, sessions ended, messages kept.
    deactivatedAt: timestamp("deactivated_at", { withTimezone: true }),
    // Granted by an admin; ADMIN_USERNAMES are admins whatever this says.
    isAdmin: boolean("is_admin").notNull().default(false),
    // A verified address from single sign-on, used to link an OpenID account to this user.
    email: text("email"),
  },
  (t) => [
    uniqueIndex("users_email_lower_uq").on(sql`lower(${t.email})`),
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

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => Buffer.from(value),
});

// A small resized avatar (a few KB), kept out of the users row that every request reads.
export const userAvatars = pgTable("user_avatars", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  contentType: text("content_type").notNull(),
  image: bytea("image").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

// Invite links created by admins: a code good for `maxUses` sign-ups until it expires.
export const invites = pgTable("invites", {
  id: uuid("id").primaryKey().defaultRandom(),
  code: text("code").notNull().unique(),
  createdBy: uuid("created_by")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  maxUses: integer("max_uses").notNull(),
  uses: integer("uses").notNull().default(0),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

// An account at an OpenID provider (issuer + subject) that signs in as a Chorus user.
export const userIdentities = pgTable(
  "user_identities",
  {
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.subject] }), index("user_identities_user_idx").on(t.userId)],
);
