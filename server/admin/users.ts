import { and, asc, eq, gt, ilike, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { users } from "@/db/schema";
import type { Db } from "@/db/types";
import { MAX_USER_SEARCH_CHARS } from "@/lib/limits";
import { checkText } from "@/lib/text";
import { passwordSchema, usernameSchema } from "../auth/accounts";
import { hashPassword } from "../auth/password";
import { announceStandingChange, endSessions, forgetStanding } from "../auth/standing";
import { AppError } from "../errors";
import { logger } from "../logger";
import { enqueuePresenceChanges } from "../presence/fanout";
import { presenceSettings } from "../presence/settings";
import { commitAndAnnounce } from "../realtime/announce";
import type { Publisher } from "../realtime/publisher";
import { configuredAdmins, isSiteAdmin } from "./admins";

const log = logger.child({ domain: "admin" });

type Announcing = { publisher: Publisher };

const userId = z.uuid("userId must be a UUID");

export const listUsersInput = z.object({
  query: z
    .string("Search must be text")
    .trim()
    .max(MAX_USER_SEARCH_CHARS, `Search for at most ${MAX_USER_SEARCH_CHARS} characters`)
    .refine(
      (v) => checkText(v, { field: "Search", max: MAX_USER_SEARCH_CHARS }).ok,
      "Search contains characters people do not type",
    )
    .optional(),
  // The username the previous page ended on; compared in SQL, so held to the username rules
  // (a NUL in it made Postgres refuse the query with a 500).
  cursor: z
    .string("cursor must be text")
    .refine((v) => usernameSchema.safeParse(v).success, "cursor must be the nextCursor of a previous page")
    .optional(),
  limit: z.number().int().min(1).max(100).default(50),
});

export type AdminUserRow = {
  id: string;
  username: string;
  displayName: string;
  createdAt: Date;
  deactivatedAt: Date | null;
  isAdmin: boolean;
  /** Named in ADMIN_USERNAMES: an admin the admin area cannot revoke. */
  configuredAdmin: boolean;
  lastSeenAt: Date | null;
};

/** Every user, deactivated ones too, by username; a search matches username or display name. */
export async function listUsers(
  db: Db,
  input: z.infer<typeof listUsersInput>,
): Promise<{ users: AdminUserRow[]; nextCursor: string | null }> {
  const named = configuredAdmins();
  const escaped = input.query?.replace(/[\\%_]/g, (c) => `\\${c}`);
  const rows = await db
    .select({
      id: users.id,
      username: users.username,
      displayName: users.displayName,
      createdAt: users.createdAt,
      deactivatedAt: users.deactivatedAt,
      isAdmin: users.isAdmin,
      lastSeenAt: users.lastSeenAt,
    })
    .from(users)
    .where(
      and(
        escaped ? or(ilike(users.username, `%${escaped}%`), ilike(users.displayName, `%${escaped}%`)) : undefined,
        input.cursor ? gt(sql`lower(${users.username})`, input.cursor.toLowerCase()) : undefined,
      ),
    )
    .orderBy(asc(sql`lower(${users.username})`))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit).map((row) => {
    const configuredAdmin = named.includes(row.username.toLowerCase());
    return { ...row, isAdmin: isSiteAdmin(row, named), configuredAdmin };
  });
  return { users: page, nextCursor: rows.length > input.limit ? (page.at(-1)?.username ?? null) : null };
}

export const userIdInput = z.object({ userId });

/**
 * A leaver's access ends: sign-in refused, every session and socket ended
 * within seconds, gone from presence. Their messages stay.
 */
export async function deactivateUser(
  db: Db,
  adminId: string,
  input: z.infer<typeof userIdInput>,
  options: Announcing,
): Promise<{ deactivated: boolean }> {
  if (input.userId === adminId) throw new AppError("BAD_REQUEST", "You cannot deactivate your own account");
  const deactivated = await commitAndAnnounce(db, options.publisher, async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ deactivatedAt: sql`now()`, presenceStatus: "offline", presenceExpiresAt: null, presenceManual: null })
      .where(and(eq(users.id, input.userId), isNull(users.deactivatedAt)))
      .returning({ id: users.id, lastSeenAt: users.lastSeenAt });
    if (!row) {
      const [exists] = await tx.select({ id: users.id }).from(users).where(eq(users.id, input.userId));
      if (!exists) throw new AppError("NOT_FOUND", "No such user");
      return false;
    }
    await endSessions(tx, input.userId);
    await enqueuePresenceChanges(
      tx,
      [{ userId: row.id, status: "offline", lastSeenAt: row.lastSeenAt?.toISOString() ?? null }],
      presenceSettings().fanoutMaxMembers,
    );
    return true;
  });
  forgetStanding(db, input.userId);
  if (deactivated) log.info({ adminId, userId: input.userId }, "user deactivated");
  return { deactivated };
}

/** A deactivated user may sign in again (their old sessions stay ended). */
export async function reactivateUser(
  db: Db,
  adminId: string,
  input: z.infer<typeof userIdInput>,
): Promise<{ reactivated: boolean }> {
  const row = await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(users)
      .set({ deactivatedAt: null })
      .where(eq(users.id, input.userId))
      .returning({ id: users.id });
    if (updated) await announceStandingChange(tx, input.userId);
    return updated;
  });
  if (!row) throw new AppError("NOT_FOUND", "No such user");
  forgetStanding(db, input.userId);
  log.info({ adminId, userId: input.userId }, "user reactivated");
  return { reactivated: true };
}

export const resetPasswordInput = z.object({ userId, newPassword: passwordSchema });

/** An admin sets a new password for a user who lost theirs; their sessions end. */
export async function resetPassword(
  db: Db,
  adminId: string,
  input: z.infer<typeof resetPasswordInput>,
  options: Announcing,
): Promise<{ ok: true }> {
  const passwordHash = await hashPassword(input.newPassword);
  await commitAndAnnounce(db, options.publisher, async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ passwordHash })
      .where(eq(users.id, input.userId))
      .returning({ id: users.id });
    if (!row) throw new AppError("NOT_FOUND", "No such user");
    await endSessions(tx, input.userId);
  });
  forgetStanding(db, input.userId);
  log.info({ adminId, userId: input.userId }, "password reset by an admin");
  return { ok: true };
}

export const setAdminInput = z.object({ userId, admin: z.boolean("admin must be true or false") });

/** Grants or revokes the admin role; ADMIN_USERNAMES stay admins whatever this says. */
export async function setAdmin(
  db: Db,
  adminId: string,
  input: z.infer<typeof setAdminInput>,
): Promise<{ isAdmin: boolean }> {
  if (input.userId === adminId && !input.admin)
    throw new AppError("BAD_REQUEST", "You cannot revoke your own admin role");
  const [row] = await db
    .update(users)
    .set({ isAdmin: input.admin })
    .where(eq(users.id, input.userId))
    .returning({ username: users.username, isAdmin: users.isAdmin });
  if (!row) throw new AppError("NOT_FOUND", "No such user");
  log.info({ adminId, userId: input.userId, admin: input.admin }, "admin role changed");
  return { isAdmin: isSiteAdmin(row) };
}
