import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { pushSubscriptions } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { MAX_PUSH_ENDPOINT_CHARS, MAX_PUSH_KEY_CHARS, MAX_PUSH_SUBSCRIPTIONS_PER_USER } from "@/lib/limits";
import { AppError } from "../errors";
import { pushConfig } from "./config";
import { checkEndpoint, type EndpointPolicy } from "./endpoint";

const base64url = (name: string) =>
  z
    .string(`${name} must be a string`)
    .min(1, `${name} cannot be empty`)
    .max(MAX_PUSH_KEY_CHARS, `${name} is too long`)
    .regex(/^[A-Za-z0-9_-]+=*$/, `${name} must be base64url`);

export const subscribeInput = z.object({
  endpoint: z
    .string("endpoint must be a string")
    .min(1, "endpoint cannot be empty")
    .max(MAX_PUSH_ENDPOINT_CHARS, `endpoint must be at most ${MAX_PUSH_ENDPOINT_CHARS} characters`)
    // A URL as browsers hand it over: printable ASCII only (no controls, spaces, NUL or lone surrogates).
    .regex(/^[\x21-\x7e]+$/, "endpoint must be a URL of printable characters"),
  keys: z.object({ p256dh: base64url("keys.p256dh"), auth: base64url("keys.auth") }, "keys must be an object"),
});

export const unsubscribeInput = z.object({ endpoint: subscribeInput.shape.endpoint });

/** The browser's key must be an uncompressed P-256 point, its auth secret 16 bytes (RFC 8291). */
function checkKeys(keys: { p256dh: string; auth: string }) {
  const point = Buffer.from(keys.p256dh, "base64url");
  if (point.length !== 65 || point[0] !== 0x04) {
    throw new AppError("BAD_REQUEST", "keys.p256dh must be an uncompressed P-256 public key (65 bytes)");
  }
  if (Buffer.from(keys.auth, "base64url").length !== 16) {
    throw new AppError("BAD_REQUEST", "keys.auth must be a 16-byte secret");
  }
}

/**
 * Records a browser's push subscription for the user (one per device). The
 * same browser signing in as someone else moves the endpoint to them; beyond
 * the per-user cap the oldest device is forgotten.
 */
export async function subscribe(
  db: DbOrTx,
  userId: string,
  input: z.infer<typeof subscribeInput>,
  policy: EndpointPolicy = pushConfig().policy,
): Promise<{ subscribed: true }> {
  checkKeys(input.keys);
  await checkEndpoint(input.endpoint, policy);
  await db
    .insert(pushSubscriptions)
    .values({ endpoint: input.endpoint, userId, p256dh: input.keys.p256dh, auth: input.keys.auth })
    .onConflictDoUpdate({
      target: pushSubscriptions.endpoint,
      set: { userId, p256dh: input.keys.p256dh, auth: input.keys.auth, createdAt: sql`now()` },
    });
  await db.execute(sql`delete from push_subscriptions where user_id = ${userId}::uuid and endpoint not in (
      select endpoint from push_subscriptions where user_id = ${userId}::uuid
      order by created_at desc limit ${MAX_PUSH_SUBSCRIPTIONS_PER_USER})`);
  return { subscribed: true };
}

/** Forgets one of the user's own subscriptions; someone else's endpoint is left alone. */
export async function unsubscribe(
  db: DbOrTx,
  userId: string,
  input: z.infer<typeof unsubscribeInput>,
): Promise<{ removed: boolean }> {
  const removed = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.endpoint, input.endpoint), eq(pushSubscriptions.userId, userId)))
    .returning({ endpoint: pushSubscriptions.endpoint });
  return { removed: removed.length > 0 };
}

/** A push service answered 404/410: the browser dropped this subscription. */
export async function forgetSubscription(db: DbOrTx, endpoint: string): Promise<void> {
  await db.delete(pushSubscriptions).where(eq(pushSubscriptions.endpoint, endpoint));
}
