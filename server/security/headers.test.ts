import { describe, expect, it } from "vitest";
import {
  apiSecurityHeaders,
  baseSecurityHeaders,
  newNonce,
  pageContentSecurityPolicy,
  servedOverHttps,
} from "./headers";

const directives = (policy: string) =>
  Object.fromEntries(
    policy.split(";").map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name, sources];
    }),
  );

const page = (overrides: Partial<Parameters<typeof pageContentSecurityPolicy>[0]> = {}) =>
  directives(
    pageContentSecurityPolicy({
      nonce: "bm9uY2U=",
      pageHost: "chat.example.org",
      realtime: { host: null, port: 6001, useTLS: false },
      https: false,
      ...overrides,
    }),
  );

describe("the page content security policy", () => {
  it("lets scripts run only with the request's nonce: no 'unsafe-inline', no 'unsafe-eval' in production", () => {
    const policy = page();
    expect(policy["script-src"]).toEqual(["'self'", "'nonce-bm9uY2U='"]);
    expect(policy).toMatchObject({
      "object-src": ["'none'"],
      "base-uri": ["'self'"],
      "frame-ancestors": ["'none'"],
      "form-action": ["'self'"],
    });
    expect(policy["upgrade-insecure-requests"]).toBeUndefined();
  });

  it("lets the browser open the realtime socket: the page's host by default, the public Soketi host when set", () => {
    expect(page()["connect-src"]).toEqual(["'self'", "ws://chat.example.org:6001"]);
    expect(page({ realtime: { host: "rt.example.org", port: 443, useTLS: true } })["connect-src"]).toEqual([
      "'self'",
      "wss://rt.example.org:443",
    ]);
    expect(page({ pageHost: "evil.example; script-src *" })["connect-src"]).toEqual(["'self'", "ws://localhost:6001"]);
  });

  it("asks browsers to upgrade subresources only over https", () => {
    expect(page({ https: true })["upgrade-insecure-requests"]).toEqual([]);
  });

  it("draws a fresh nonce each time", () => {
    const nonces = new Set(Array.from({ length: 50 }, newNonce));
    expect(nonces.size).toBe(50);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});

describe("headers on every answer", () => {
  it("refuse sniffing, framing, referrer leaks and device APIs", () => {
    expect(baseSecurityHeaders({ https: false })).toMatchObject({
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "strict-origin-when-cross-origin",
      "X-Frame-Options": "DENY",
      "Permissions-Policy": expect.stringContaining("camera=(), microphone=(), geolocation=()"),
    });
  });

  it("count as https when the edge proxy says so (x-forwarded-proto, first hop)", () => {
    expect(servedOverHttps("https")).toBe(true);
    expect(servedOverHttps(["https, http"])).toBe(true);
    expect(servedOverHttps("http")).toBe(false);
    expect(servedOverHttps(undefined)).toBe(false);
  });

  it("send Strict-Transport-Security over https only", () => {
    expect(baseSecurityHeaders({ https: false })["Strict-Transport-Security"]).toBeUndefined();
    expect(baseSecurityHeaders({ https: true })["Strict-Transport-Security"]).toMatch(/^max-age=\d+/);
  });

  it("give API answers a policy that loads nothing and cannot be framed", () => {
    expect(apiSecurityHeaders({ https: false })).toMatchObject({
      "Content-Security-Policy": expect.stringMatching(/^default-src 'none'; frame-ancestors 'none'/),
      "X-Content-Type-Options": "nosniff",
    });
  });
});
