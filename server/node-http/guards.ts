import type { IncomingHttpHeaders } from "node:http";

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Refuses a state-changing request a browser sent on behalf of another site.
 * SameSite=Lax cookies already stop other sites, but not a sibling subdomain,
 * so the Origin (or Sec-Fetch-Site) must be this app's own. Clients that are
 * not browsers send neither header and are not affected.
 */
export function crossSiteRefusal(headers: IncomingHttpHeaders): string | null {
  const site = first(headers["sec-fetch-site"]);
  if (site && site !== "same-origin" && site !== "none") return `Cross-site requests are refused (${site})`;
  const origin = first(headers.origin);
  if (origin === undefined) return null;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return "The Origin header is malformed";
  }
  const own = [first(headers["x-forwarded-host"])?.split(",")[0]?.trim(), first(headers.host)];
  return own.includes(host) ? null : "Requests from another origin are refused";
}

/** tRPC mutations are JSON: a form encoding (which a plain HTML form can send cross-site) is refused. */
export function isJson(headers: IncomingHttpHeaders): boolean {
  const type = first(headers["content-type"])?.split(";")[0]?.trim().toLowerCase();
  return type === "application/json";
}

export function clientIp(headers: IncomingHttpHeaders, socketAddress?: string): string | undefined {
  return (
    first(headers["x-forwarded-for"])?.split(",")[0]?.trim() ||
    first(headers["x-real-ip"]) ||
    socketAddress ||
    undefined
  );
}
