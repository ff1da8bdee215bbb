import http from "node:http";
import https from "node:https";
import webpush from "web-push";
import type { VapidDetails } from "../config/secrets";
import { type EndpointPolicy, isAllowListed, publicOnlyLookup, resolvePublic } from "./endpoint";

export type PushTarget = { endpoint: string; p256dh: string; auth: string };

export type PushTransport = {
  vapid: VapidDetails;
  policy: EndpointPolicy;
  timeoutMs: number;
};

/** What the push service answered: delivered, gone (404/410: delete the subscription), or failed. */
export type PushOutcome =
  | { kind: "delivered"; status: number }
  | { kind: "gone"; status: number }
  | { kind: "failed"; status: number | null; reason: string };

// RFC 8292 lets a VAPID token be reused until it expires (at most 24 h): signing one (ES256)
// per push was half of a large group's fan-out CPU. Renewed an hour before it runs out.
const VAPID_TOKEN_SECONDS = 12 * 3600;
const VAPID_RENEW_BEFORE_SECONDS = 3600;
const vapidByAudience = new Map<string, { authorization: string; expiresAt: number; key: string }>();

/** The Authorization header for pushes to one push service (its origin), cached per key pair. */
export function vapidAuthorization(audience: string, vapid: VapidDetails, nowSeconds = Date.now() / 1000): string {
  const cached = vapidByAudience.get(audience);
  if (cached && cached.key === vapid.publicKey && cached.expiresAt - nowSeconds > VAPID_RENEW_BEFORE_SECONDS) {
    return cached.authorization;
  }
  const expiresAt = Math.floor(nowSeconds) + VAPID_TOKEN_SECONDS;
  const { Authorization: authorization } = webpush.getVapidHeaders(
    audience,
    vapid.subject,
    vapid.publicKey,
    vapid.privateKey,
    "aes128gcm",
    expiresAt,
  );
  vapidByAudience.set(audience, { authorization, expiresAt, key: vapid.publicKey });
  return authorization;
}

/**
 * Encrypts (RFC 8291, aes128gcm) and signs (VAPID) with web-push, then POSTs
 * it ourselves: the connection resolves through publicOnlyLookup, so a
 * subscription whose host now points inside the network is never reached,
 * and a slow push service cannot hold the worker past the timeout.
 * `topic` lets the push service replace an undelivered push for the same conversation.
 */
export async function deliverPush(
  target: PushTarget,
  payload: string,
  transport: PushTransport,
  options: { topic?: string; ttlSeconds?: number; urgency?: "normal" | "high" } = {},
): Promise<PushOutcome> {
  const details = webpush.generateRequestDetails(
    { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
    payload,
    {
      // Signed once per push service, not per push (see vapidAuthorization).
      headers: { Authorization: vapidAuthorization(new URL(target.endpoint).origin, transport.vapid) },
      TTL: options.ttlSeconds ?? 3600,
      urgency: options.urgency ?? "high",
      topic: options.topic,
      contentEncoding: "aes128gcm",
    },
  );
  const url = new URL(details.endpoint);
  const allowListed = isAllowListed(url, transport.policy);
  if (!allowListed) {
    if (url.protocol !== "https:") return { kind: "failed", status: null, reason: "endpoint is not https" };
    // Literal addresses skip `lookup`: check them here.
    try {
      await resolvePublic(url.hostname);
    } catch (error) {
      return { kind: "failed", status: null, reason: (error as Error).message };
    }
  }
  const client = url.protocol === "https:" ? https : http;
  return new Promise<PushOutcome>((resolve) => {
    const request = client.request(
      url,
      {
        method: details.method,
        headers: { ...details.headers, "Content-Length": String(details.body.length) },
        lookup: allowListed ? undefined : (publicOnlyLookup as never),
        timeout: transport.timeoutMs,
        signal: AbortSignal.timeout(transport.timeoutMs),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The answer's body is not needed; drain it so the socket is freed.
        response.resume();
        response.on("end", () => {
          if (status >= 200 && status < 300) resolve({ kind: "delivered", status });
          else if (status === 404 || status === 410) resolve({ kind: "gone", status });
          else resolve({ kind: "failed", status, reason: `push service answered ${status}` });
        });
        response.on("error", (error) => resolve({ kind: "failed", status, reason: error.message }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${transport.timeoutMs} ms`)));
    request.on("error", (error) => resolve({ kind: "failed", status: null, reason: error.message }));
    request.end(details.body);
  });
}
