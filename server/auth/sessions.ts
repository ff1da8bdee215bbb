import { eq } from "drizzle-orm";
import { z } from "zod";
import { users } from "@/db/schema";
import type { Db } from "@/db/types";
import { AppError } from "../errors";
import { logger } from "../logger";
import { commitAndAnnounce } from "../realtime/announce";
import type { Publisher } from "../realtime/publisher";
import { passwordSchema } from "./accounts";
import { hashPassword, verifyPassword } from "./password";
import { endSessions, forgetStanding } from "./standing";

const log = logger.child({ domain: "auth" });

type Announcing = { publisher: Publisher };

/** Ends every session of the user, this one included, and closes their sockets. */
export async function signOutEverywhere(db: Db, userId: string, options: Announcing): Promise<{ epoch: number }> {
  const epoch = await commitAndAnnounce(db, options.publisher, (tx) => endSessions(tx, userId));
  forgetStanding(db, userId);
  log.info({ userId, epoch }, "signed out everywhere");
  return { epoch };
}

export const changePasswordInput = z.object({
  currentPassword: z.string("Type your current password").min(1, "Type your current password").max(256),
  newPassword: passwordSchema,
});

/**
 * A new password, given the current one; every session ends (the browser
 * that changed it signs in again with the new one).
 */
export async function changePassword(
  db: Db,
  userId: string,
  input: z.infer<typeof changePasswordInput>,
  options: Announcing,
): Promise<{ epoch: number }> {
  const [row] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId)).limit(1);
  if (!row) throw new AppError("UNAUTHORIZED", "Your account no longer exists");
  if (!(await verifyPassword(row.passwordHash, input.currentPassword))) {
    throw new AppError("FORBIDDEN", "Your current password is not right");
  }
  const passwordHash = await hashPassword(input.newPassword);
  const epoch = await commitAndAnnounce(db, options.publisher, async (tx) => {
    await tx.update(users).set({ passwordHash }).where(eq(users.id, userId));
    return endSessions(tx, userId);
  });
  forgetStanding(db, userId);
  log.info({ userId, epoch }, "password changed");
  return { epoch };
}
