import { and, eq, gt, lt, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/types";
import { invites, users } from "@/db/schema";
import { MAX_DISPLAY_NAME_CHARS, MAX_INVITE_CODE_CHARS, MAX_USERNAME_CHARS, MIN_USERNAME_CHARS } from "@/lib/limits";
import { textField } from "@/lib/text-field";
import { env } from "../env";
import { AppError } from "../errors";
import { prepared } from "@/db/prepared";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./password";

export const usernameSchema = z
  .string()
  .trim()
  .min(MIN_USERNAME_CHARS, `Username must be at least ${MIN_USERNAME_CHARS} characters`)
  .max(MAX_USERNAME_CHARS, `Username must be at most ${MAX_USERNAME_CHARS} characters`)
  .regex(/^[A-Za-z0-9_.-]+$/, "Username may contain only letters, digits, _ . and -");

export const displayNameSchema = textField({ field: "Display name", max: MAX_DISPLAY_NAME_CHARS });

export const passwordSchema = z
  .string()
  .min(8, "Password must be at least 8 characters")
  .max(256, "Password must be at most 256 characters");

export const inviteCodeSchema = z
  .string("Invite code must be text")
  .trim()
  .min(1, "Invite code is empty")
  .max(MAX_INVITE_CODE_CHARS, "Invite code is malformed")
  .regex(/^[A-Za-z0-9_-]+$/, "Invite code is malformed");

export const registerInput = z.object({
  username: usernameSchema,
  displayName: displayNameSchema,
  password: passwordSchema,
  inviteCode: inviteCodeSchema.optional(),
});
export type RegisterInput = z.infer<typeof registerInput>;

export type PublicUser = { id: string; username: string; displayName: string; avatarUrl: string | null };

const publicColumns = {
  id: users.id,
  username: users.username,
  displayName: users.displayName,
  avatarUrl: users.avatarUrl,
};

export type SignUpMode = "open" | "invite" | "closed";
/** Who may create an account; ADMIN_USERNAMES (lower-cased) always may. */
export type SignUpPolicy = { mode: SignUpMode; adminUsernames: string[] };

export function adminUsernamesFrom(list: string): string[] {
  return list
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
}

export function signUpPolicy(): SignUpPolicy {
  return { mode: env.SIGNUP_MODE, adminUsernames: adminUsernamesFrom(env.ADMIN_USERNAMES) };
}

/**
 * Spends one use of an invite, atomically: concurrent sign-ups on the last
 * use cannot both get it. Rolled back with the sign-up if that fails.
 */
export async function spendInvite(tx: DbOrTx, code: string, now = new Date()): Promise<void> {
  const [spent] = await tx
    .update(invites)
    .set({ uses: sql`${invites.uses} + 1` })
    .where(and(eq(invites.code, code), lt(invites.uses, invites.maxUses), gt(invites.expiresAt, now)))
    .returning({ id: invites.id });
  if (!spent) throw new AppError("FORBIDDEN", "This invite is unknown, expired or used up");
}

/**
 * Whether a sign-up may go ahead under the policy, spending the invite it
 * brings (in the caller's transaction). Throws FORBIDDEN with the reason.
 */
export async function admitSignUp(
  tx: DbOrTx,
  options: { username: string; inviteCode?: string; policy: SignUpPolicy },
): Promise<void> {
  const { policy } = options;
  if (policy.adminUsernames.includes(options.username.trim().toLowerCase())) return;
  if (policy.mode === "closed") throw new AppError("FORBIDDEN", "Sign-up is closed on this server");
  if (options.inviteCode) return spendInvite(tx, options.inviteCode);
  if (policy.mode === "invite") throw new AppError("FORBIDDEN", "Sign-up on this server needs an invite");
}

export async function register(
  db: DbOrTx,
  input: RegisterInput,
  policy: SignUpPolicy = signUpPolicy(),
): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    await admitSignUp(tx, { username: input.username, inviteCode: input.inviteCode, policy });
    const [created] = await tx
      .insert(users)
      .values({ username: input.username, displayName: input.displayName, passwordHash })
      .onConflictDoNothing()
      .returning(publicColumns);
    if (!created) throw new AppError("CONFLICT", "That username is taken");
    return created;
  });
}

/** A user who just proved who they are: what their session JWT carries. */
export type SignInUser = PublicUser & { epoch: number };

/**
 * Checks a username and password; null for an unknown user, a wrong password
 * and a deactivated account alike.
 */
export async function verifyCredentials(db: DbOrTx, username: string, password: string): Promise<SignInUser | null> {
  const [row] = await db
    .select({
      ...publicColumns,
      passwordHash: users.passwordHash,
      epoch: users.sessionEpoch,
      deactivatedAt: users.deactivatedAt,
    })
    .from(users)
    .where(eq(sql`lower(${users.username})`, username.trim().toLowerCase()))
    .limit(1);
  if (!row) {
    await verifyPassword(await dummyPasswordHash(), password);
    return null;
  }
  if (!(await verifyPassword(row.passwordHash, password)) || row.deactivatedAt) return null;
  const { passwordHash: _hash, deactivatedAt: _deactivated, ...user } = row;
  return user;
}

export async function findPublicUser(db: DbOrTx, id: string): Promise<PublicUser | null> {
  const [row] = await prepared(db, "find_public_user", (d) =>
    d
      .select(publicColumns)
      .from(users)
      .where(eq(users.id, sql.placeholder("id")))
      .limit(1)
      .prepare("find_public_user"),
  ).execute({ id });
  return row ?? null;
}
