import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Db } from "@/db/types";
import { MAX_REQUEST_BYTES } from "../http";
import { logger } from "../logger";
import { publishOutboxRows } from "../realtime/outbox";
import type { Publisher } from "../realtime/publisher";
import { applyWebhookEvents, type PresenceOptions } from "./transitions";

const log = logger.child({ domain: "presence" });

export type WebhookCredentials = { key: string; secret: string };

/** X-Pusher-Key names our app and X-Pusher-Signature is the hex HMAC-SHA256 of the raw body. */
export function verifyWebhookSignature(rawBody: string, headers: Headers, credentials: WebhookCredentials): boolean {
  const key = headers.get("x-pusher-key");
  const signature = headers.get("x-pusher-signature");
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

/** POST /api/pusher/webhook: verify, apply presence changes, publish them after commit. */
export async function handlePusherWebhook(req: Request, deps: WebhookDeps): Promise<Response> {
  if (Number(req.headers.get("content-length") ?? 0) > MAX_REQUEST_BYTES) {
    return Response.json({ error: "Webhook body too large" }, { status: 413 });
  }
  const raw = await req.text();
  if (!verifyWebhookSignature(raw, req.headers, deps.credentials)) {
    log.warn({ key: req.headers.get("x-pusher-key") }, "webhook refused: bad key or signature");
    return Response.json({ error: "Invalid webhook signature" }, { status: 401 });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return Response.json({ error: "Webhook body is not JSON" }, { status: 400 });
  }
  const parsed = webhookBody.safeParse(json);
  if (!parsed.success) {
    return Response.json({ error: parsed.error.issues[0]?.message ?? "Malformed webhook body" }, { status: 400 });
  }
  const result = await applyWebhookEvents(deps.db, parsed.data.events, {
    ...deps.options,
    timeMs: parsed.data.time_ms,
  });
  await publishOutboxRows(deps.db, deps.publisher, result.outboxIds);
  return Response.json({ applied: result.applied });
}
