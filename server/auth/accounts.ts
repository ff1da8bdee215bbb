import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/types";
import { users } from "@/db/schema";
import { MAX_DISPLAY_NAME_CHARS, MAX_USERNAME_CHARS, MIN_USERNAME_CHARS } from "@/lib/limits";
import { textField } from "@/lib/text-field";
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

export const registerInput = z.object({
  username: usernameSchema,
  displayName: displayNameSchema,
  password: passwordSchema,
});
export type RegisterInput = z.infer<typeof registerInput>;

export type PublicUser = { id: string; username: string; displayName: string; avatarUrl: string | null };

const publicColumns = {
  id: users.id,
  username: users.username,
  displayName: users.displayName,
  avatarUrl: users.avatarUrl,
};

export async function register(db: DbOrTx, input: RegisterInput): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  const [created] = await db
    .insert(users)
    .values({ username: input.username, displayName: input.displayName, passwordHash })
    .onConflictDoNothing()
    .returning(publicColumns);
  if (!created) throw new AppError("CONFLICT", "That username is taken");
  return created;
}

/** Checks a username and password; null for an unknown user or a wrong password alike. */
export async function verifyCredentials(db: DbOrTx, username: string, password: string): Promise<PublicUser | null> {
  const [row] = await db
    .select({ ...publicColumns, passwordHash: users.passwordHash })
    .from(users)
    .where(eq(sql`lower(${users.username})`, username.trim().toLowerCase()))
    .limit(1);
  if (!row) {
    await verifyPassword(await dummyPasswordHash(), password);
    return null;
  }
  if (!(await verifyPassword(row.passwordHash, password))) return null;
  const { passwordHash: _ignored, ...user } = row;
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
