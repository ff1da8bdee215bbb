import webpush from "web-push";
import { describe, expect, it } from "vitest";
import { vapidAuthorization } from "./delivery";

const keys = () => ({ ...webpush.generateVAPIDKeys(), subject: "mailto:ops@example.com" });

/** The claims of a `vapid t=<jwt>, k=<key>` header. */
const claims = (authorization: string) => {
  const token = /t=([^,]+)/.exec(authorization)?.[1] ?? "";
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as { aud: string; exp: number };
};

describe("VAPID tokens", () => {
  it("are signed once per push service and key, then reused", () => {
    const vapid = keys();
    const now = Math.floor(Date.now() / 1000);
    const first = vapidAuthorization("https://push.example.com", vapid, now);
    expect(vapidAuthorization("https://push.example.com", vapid, now + 60)).toBe(first);
    expect(claims(first)).toMatchObject({ aud: "https://push.example.com" });
    expect(claims(first).exp - now).toBeLessThanOrEqual(24 * 3600);
    const other = vapidAuthorization("https://updates.push.example.net", vapid, now);
    expect(other).not.toBe(first);
    expect(claims(other).aud).toBe("https://updates.push.example.net");
    // A new key pair (rotated VAPID keys) signs anew.
    const rotated = keys();
    const again = vapidAuthorization("https://push.example.com", rotated, now);
    expect(again).not.toBe(first);
    expect(again).toContain(`k=${rotated.publicKey}`);
  });

  it("are renewed before they expire", () => {
    const vapid = keys();
    const now = Math.floor(Date.now() / 1000);
    const first = vapidAuthorization("https://renew.example.com", vapid, now);
    const expiresAt = claims(first).exp;
    expect(vapidAuthorization("https://renew.example.com", vapid, expiresAt - 3 * 3600)).toBe(first);
    const renewed = vapidAuthorization("https://renew.example.com", vapid, expiresAt - 30 * 60);
    expect(renewed).not.toBe(first);
    expect(claims(renewed).exp).toBeGreaterThan(expiresAt);
  });
});
