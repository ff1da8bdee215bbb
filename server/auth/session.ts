import { decode } from "next-auth/jwt";
import type { DbOrTx } from "@/db/types";
import type { SessionUser } from "./options";
import { sessionIsCurrent } from "./standing";

// next-auth's session cookie: the __Secure- name over https, and split into
// name.0, name.1, ... when the token outgrows one cookie.
const SESSION_COOKIES = ["__Secure-next-auth.session-token", "next-auth.session-token"];

/** The session token in a Cookie header, chunks joined; null when there is none. */
export function sessionTokenFrom(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null;
  const cookies = new Map<string, string>();
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of SESSION_COOKIES) {
    const whole = cookies.get(name);
    if (whole) return whole;
    let joined = "";
    for (let i = 0; cookies.has(`${name}.${i}`); i++) joined += cookies.get(`${name}.${i}`);
    if (joined) return joined;
  }
  return null;
}

type Cached = { user: SessionUser; expiresAtMs: number };

// A token is immutable until it expires, so decrypting it once per process is enough.
const MAX_CACHED = 20_000;
const cache = new Map<string, Cached>();

/**
 * The user of a next-auth session JWT, decoded directly (no round through
 * next-auth's handler, no cookie re-issued). Expired, forged or malformed
 * tokens give null.
 */
export async function sessionUserFromToken(token: string, secret: string): Promise<SessionUser | null> {
  const now = Date.now();
  const hit = cache.get(token);
  if (hit) {
    if (hit.expiresAtMs > now) return hit.user;
    cache.delete(token);
    return null;
  }
  let payload: Awaited<ReturnType<typeof decode>>;
  try {
    payload = await decode({ token, secret });
  } catch {
    return null;
  }
  if (!payload?.sub || typeof payload.exp !== "number" || payload.exp * 1000 <= now) return null;
  const user: SessionUser = {
    id: payload.sub,
    name: typeof payload.name === "string" ? payload.name : null,
    // Tokens issued before epochs existed count as epoch 0, every user's first.
    epoch: typeof payload.epoch === "number" ? payload.epoch : 0,
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(token, { user, expiresAtMs: payload.exp * 1000 });
  return user;
}

/**
 * The user a request's Cookie header names, or null; whether that session
 * is still current is not checked here (tRPC's protectedProcedure does it,
 * so a database outage answers as every other procedure failure does).
 */
export async function sessionUserFromCookies(
  cookieHeader: string | undefined,
  secret: string,
): Promise<SessionUser | null> {
  const token = sessionTokenFrom(cookieHeader);
  return token ? sessionUserFromToken(token, secret) : null;
}

/**
 * The signed-in user of a request, or null: also when the session was ended
 * (signed out everywhere, password changed, deactivated), which costs one
 * cached lookup of the user's epoch. For endpoints outside tRPC.
 */
export async function currentSessionUser(
  cookieHeader: string | undefined,
  secret: string,
  db: DbOrTx,
): Promise<SessionUser | null> {
  const user = await sessionUserFromCookies(cookieHeader, secret);
  if (!user) return null;
  return (await sessionIsCurrent(db, user.id, user.epoch ?? 0)) ? user : null;
}
