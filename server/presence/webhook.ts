import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Db } from "@/db/types";
import { logger } from "../logger";
import type { Publisher } from "../realtime/publisher";
import { applyWebhookEvents, type PresenceOptions } from "./transitions";

const log = logger.child({ domain: "presence" });

export type WebhookCredentials = { key: string; secret: string };

/** X-Pusher-Key names our app and X-Pusher-Signature is the hex HMAC-SHA256 of the raw body. */
export function verifyWebhookSignature(
  rawBody: string,
  headers: { key?: string; signature?: string },
  credentials: WebhookCredentials,
): boolean {
  const { key, signature } = headers;
  if (!key || !signature || key !== credentials.key) return false;
  const expected = createHmac("sha256", credentials.secret).update(rawBody).digest();
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const webhookBody = z.object({
  time_ms: z.number().int().positive(),
  events: z.array(z.object({ name: z.string(), channel: z.string().optional() }).loose()).max(1000),
});

export type WebhookDeps = {
  db: Db;
  publisher: Publisher;
  credentials: WebhookCredentials;
  options?: PresenceOptions;
};

export type WebhookRequest = { rawBody: string; key?: string; signature?: string };
export type WebhookAnswer = { status: number; body: Record<string, unknown> };

// A signed body is only good for this long, and only once: a captured webhook cannot be replayed.
export const WEBHOOK_MAX_AGE_MS = 5 * 60_000;
const seenSignatures = new Map<string, number>();

function firstUse(signature: string, now: number): boolean {
  for (const [seen, at] of seenSignatures) {
    if (now - at <= WEBHOOK_MAX_AGE_MS) break;
    seenSignatures.delete(seen);
  }
  if (seenSignatures.has(signature)) return false;
  seenSignatures.set(signature, now);
  return true;
}

/** POST /api/pusher/webhook: verify, apply presence changes, announce them after commit. */
export async function handlePusherWebhook(req: WebhookRequest, deps: WebhookDeps): Promise<WebhookAnswer> {
  if (!verifyWebhookSignature(req.rawBody, req, deps.credentials)) {
    log.warn({ key: req.key }, "webhook refused: bad key or signature");
    return { status: 401, body: { error: "Invalid webhook signature" } };
  }
  let json: unknown;
  try {
    json = JSON.parse(req.rawBody);
  } catch {
    return { status: 400, body: { error: "Webhook body is not JSON" } };
  }
  const parsed = webhookBody.safeParse(json);
  if (!parsed.success) {
    return { status: 400, body: { error: "Webhook body must have time_ms and an events list" } };
  }
  const now = Date.now();
  if (Math.abs(now - parsed.data.time_ms) > WEBHOOK_MAX_AGE_MS) {
    log.warn({ timeMs: parsed.data.time_ms }, "webhook refused: too old");
    return { status: 401, body: { error: "Webhook is too old" } };
  }
  if (!firstUse(req.signature as string, now)) {
    log.warn("webhook refused: replayed");
    return { status: 401, body: { error: "Webhook was already received" } };
  }
  const result = await applyWebhookEvents(deps.db, parsed.data.events, {
    ...deps.options,
    publisher: deps.publisher,
    timeMs: parsed.data.time_ms,
  });
  return { status: 200, body: { applied: result.applied } };
}
