import { and, asc, eq, ilike, isNull, ne, or, sql } from "drizzle-orm";
import { z } from "zod";
import { checkText } from "@/lib/text";
import { users } from "@/db/schema";
import { MAX_USER_SEARCH_CHARS } from "@/lib/limits";
import type { DbOrTx } from "@/db/types";
import { displayNameSchema, findPublicUser, type PublicUser } from "../auth/accounts";
import { AppError } from "../errors";

export const avatarUrlSchema = z
  .string("Avatar must be a URL")
  // Postgres text cannot hold NUL; a URL never needs controls, spaces or broken UTF-16.
  .refine((v) => checkText(v, { field: "Avatar URL", max: 2048 }).ok && !/\s/.test(v), "Avatar URL is malformed")
  .pipe(
    z
      .url("Avatar must be a URL")
      .max(2048, "Avatar URL must be at most 2048 characters")
      .refine((v) => /^https?:\/\//i.test(v), "Avatar must be an http(s) URL"),
  );

export const updateProfileInput = z
  .object({ displayName: displayNameSchema.optional(), avatarUrl: avatarUrlSchema.nullable().optional() })
  .refine((v) => v.displayName !== undefined || v.avatarUrl !== undefined, "Nothing to update");

export async function me(db: DbOrTx, userId: string): Promise<PublicUser> {
  const user = await findPublicUser(db, userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Your account no longer exists");
  return user;
}

export async function updateProfile(
  db: DbOrTx,
  userId: string,
  input: z.infer<typeof updateProfileInput>,
): Promise<PublicUser> {
  await db.update(users).set(input).where(eq(users.id, userId));
  return me(db, userId);
}

export const searchUsersInput = z.object({
  query: z
    .string()
    .trim()
    .min(1, "Type at least one character")
    .refine(
      (v) => checkText(v, { field: "Search", max: MAX_USER_SEARCH_CHARS }).ok,
      "Search contains characters people do not type",
    )
    .max(MAX_USER_SEARCH_CHARS, `Search for at most ${MAX_USER_SEARCH_CHARS} characters`),
  limit: z.number().int().min(1).max(50).default(20),
});

/** Users whose username or display name starts with (or contains) the query, excluding the caller. */
export async function searchUsers(
  db: DbOrTx,
  userId: string,
  input: z.infer<typeof searchUsersInput>,
): Promise<PublicUser[]> {
  const escaped = input.query.replace(/[\\%_]/g, (c) => `\\${c}`);
  return db
    .select({ id: users.id, username: users.username, displayName: users.displayName, avatarUrl: users.avatarUrl })
    .from(users)
    .where(
      and(
        ne(users.id, userId),
        isNull(users.deactivatedAt),
        or(ilike(users.username, `${escaped}%`), ilike(users.displayName, `%${escaped}%`)),
      ),
    )
    .orderBy(sql`lower(${users.username}) <> lower(${input.query})`, asc(users.username))
    .limit(input.limit);
}
