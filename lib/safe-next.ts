// A fixed origin to resolve against: only what stays on it is ours.
const BASE = "http://chorus.invalid";

/**
 * Where to go after signing in: a path on this site, normalised, or "/".
 * Browsers drop tabs and newlines and read "\" as "/", so "/\t/evil.example"
 * would leave the site: any control character, whitespace or backslash refuses.
 */
export function safeNextPath(next: string | undefined | null): string {
  if (typeof next !== "string" || !next.startsWith("/") || next.length > 2048) return "/";
  if (/[\p{Cc}\p{Cf}\p{Z}\s\\]/u.test(next)) return "/";
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return "/";
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  // "/.//evil" normalises to "//evil", which a browser reads as another host.
  if (url.origin !== BASE || path.startsWith("//")) return "/";
  return path;
}
