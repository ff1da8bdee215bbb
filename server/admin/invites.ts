import { randomBytes } from "node:crypto";
import { z } from "zod";
import { invites } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { MAX_INVITE_HOURS, MAX_INVITE_USES } from "@/lib/limits";
import { env } from "../env";
import { logger } from "../logger";

const log = logger.child({ domain: "admin" });

export const createInviteInput = z.object({
  maxUses: z
    .number("maxUses must be a number")
    .int("maxUses must be a whole number")
    .min(1, "An invite is good for at least one sign-up")
    .max(MAX_INVITE_USES, `An invite is good for at most ${MAX_INVITE_USES} sign-ups`),
  expiresInHours: z
    .number("expiresInHours must be a number")
    .int("expiresInHours must be a whole number")
    .min(1, "An invite lasts at least an hour")
    .max(MAX_INVITE_HOURS, `An invite lasts at most ${MAX_INVITE_HOURS} hours`),
});

/** The sign-up page with the code filled in: absolute when NEXTAUTH_URL names the public address. */
export function inviteUrl(code: string, publicUrl = env.NEXTAUTH_URL): string {
  const path = `/sign-up?invite=${encodeURIComponent(code)}`;
  return publicUrl ? new URL(path, publicUrl).toString() : path;
}

/** An invite link good for `maxUses` sign-ups within `expiresInHours`. */
export async function createInvite(
  db: DbOrTx,
  adminId: string,
  input: z.infer<typeof createInviteInput>,
  now = new Date(),
): Promise<{ code: string; url: string; expiresAt: Date; maxUses: number }> {
  // 128 bits: a code cannot be guessed, only handed on.
  const code = randomBytes(16).toString("base64url");
  const expiresAt = new Date(now.getTime() + input.expiresInHours * 3_600_000);
  await db.insert(invites).values({ code, createdBy: adminId, maxUses: input.maxUses, expiresAt });
  log.info({ adminId, maxUses: input.maxUses, expiresAt }, "invite created");
  return { code, url: inviteUrl(code), expiresAt, maxUses: input.maxUses };
}
