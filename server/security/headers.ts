import { env } from "../env";
import type { RealtimeClientConfig } from "../realtime/config";

/** Over https (at the edge, or NEXTAUTH_URL says so): HSTS and upgrade-insecure-requests apply. */
export function servedOverHttps(forwardedProto?: string | string[] | null): boolean {
  const header = Array.isArray(forwardedProto) ? forwardedProto[0] : forwardedProto;
  const proto = header?.split(",")[0]?.trim().toLowerCase();
  return proto === "https" || Boolean(env.NEXTAUTH_URL?.startsWith("https://"));
}

/** Headers every answer carries, page or API. */
export function baseSecurityHeaders(options: { https: boolean }): Record<string, string> {
  const headers: Record<string, string> = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy":
      "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=(), interest-cohort=()",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
  // Only over https: HSTS received over plain http would be ignored, and a
  // wrong one locks a LAN install out of its own http address for a year.
  if (options.https) headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains";
  return headers;
}

/**
 * For API answers (/api/trpc, /api/pusher/*, /api/health, /api/auth): JSON is
 * never a document, so it may load nothing and be framed by no one.
 */
export function apiSecurityHeaders(options: { https?: boolean } = {}): Record<string, string> {
  return {
    ...baseSecurityHeaders({ https: options.https ?? servedOverHttps() }),
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  };
}

export type PagePolicyOptions = {
  /** Fresh per request; Next.js puts it on its own scripts. */
  nonce: string;
  /** The host name the page was requested on: the realtime socket's host when none is configured. */
  pageHost: string;
  realtime: Pick<RealtimeClientConfig, "host" | "port" | "useTLS">;
  https: boolean;
  /** React's dev build needs eval for its error overlays; production never gets it. */
  dev?: boolean;
};

/** The page CSP: scripts only with the request's nonce (no 'unsafe-inline'), sockets only to our Soketi. */
export function pageContentSecurityPolicy(options: PagePolicyOptions): string {
  const { realtime } = options;
  const socket = `${realtime.useTLS ? "wss" : "ws"}://${hostSource(realtime.host ?? options.pageHost)}:${realtime.port}`;
  const directives = [
    "default-src 'self'",
    // Our scripts are same-origin files or carry the nonce. No 'strict-dynamic': Chromium then runs any
    // inline script a running script inserts, which is exactly what an injected script does.
    `script-src 'self' 'nonce-${options.nonce}'${options.dev ? " 'unsafe-eval'" : ""}`,
    // React's style={...} attributes are inline styles; a nonce here would switch 'unsafe-inline' off.
    "style-src 'self' 'unsafe-inline'",
    // Avatars are any http(s) URL people give.
    "img-src 'self' data: blob: https: http:",
    "font-src 'self' data:",
    `connect-src 'self' ${socket}${options.dev ? " ws: wss:" : ""}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (options.https) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}

export function pageSecurityHeaders(options: PagePolicyOptions): Record<string, string> {
  return { ...baseSecurityHeaders(options), "Content-Security-Policy": pageContentSecurityPolicy(options) };
}

/** A CSP random nonce: 16 bytes, base64. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

// IPv6 literals keep their brackets in a CSP source; anything odd in a Host header is dropped.
function hostSource(host: string): string {
  const clean = host.trim().toLowerCase();
  return /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(clean) ? clean : "localhost";
}
