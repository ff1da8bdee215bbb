import { eq } from "drizzle-orm";
import { users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { adminUsernamesFrom } from "../auth/accounts";
import { env } from "../env";
import { AppError } from "../errors";

/** Site admins named by the operator (lower-cased); admins whatever the database says. */
export function configuredAdmins(): string[] {
  return adminUsernamesFrom(env.ADMIN_USERNAMES);
}

export function isSiteAdmin(
  user: { username: string; isAdmin: boolean },
  named: string[] = configuredAdmins(),
): boolean {
  return user.isAdmin || named.includes(user.username.toLowerCase());
}

/**
 * Throws FORBIDDEN unless the user is an active site admin. Read fresh on
 * every admin call (never cached): a revoked admin loses the area at once.
 */
export async function requireSiteAdmin(db: DbOrTx, userId: string, named: string[] = configuredAdmins()) {
  const [row] = await db
    .select({ username: users.username, isAdmin: users.isAdmin, deactivatedAt: users.deactivatedAt })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!row || row.deactivatedAt || !isSiteAdmin(row, named)) {
    throw new AppError("FORBIDDEN", "Only site admins can do this");
  }
}

/** Whether the user is an active site admin (for pages deciding what to show). */
export async function isAdminUser(db: DbOrTx, userId: string): Promise<boolean> {
  try {
    await requireSiteAdmin(db, userId);
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === "FORBIDDEN") return false;
    throw error;
  }
}
