import { eq, sql } from "drizzle-orm";
import { users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { enqueueEvent } from "../realtime/announce";
import { userChannel } from "../realtime/channels";

/** What decides whether a session JWT still counts: the user's epoch, and whether they may sign in at all. */
export type Standing = { epoch: number; active: boolean };

/**
 * How long one process trusts a looked-up standing. Every API call and
 * channel auth checks it, so this bounds how long a session outlives
 * "sign out everywhere", a password change or a deactivation on another
 * instance (this one forgets at once).
 */
export const STANDING_CACHE_MS = 2_000;
const MAX_CACHED = 50_000;

type Entry = { standing: Promise<Standing | null>; at: number };
// On globalThis: the lean API path and Next's bundled pages are separate module graphs in one
// process, and a change made through one (a reactivation) must be forgotten by both.
const globalForStanding = globalThis as unknown as { chorusStanding?: WeakMap<object, Map<string, Entry>> };
globalForStanding.chorusStanding ??= new WeakMap();
const cacheByDb = globalForStanding.chorusStanding;

function cacheOf(db: DbOrTx): Map<string, Entry> {
  let cache = cacheByDb.get(db);
  if (!cache) {
    cache = new Map();
    cacheByDb.set(db, cache);
  }
  return cache;
}

async function loadStanding(db: DbOrTx, userId: string): Promise<Standing | null> {
  const [row] = await db
    .select({ epoch: users.sessionEpoch, deactivatedAt: users.deactivatedAt })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  return row ? { epoch: row.epoch, active: row.deactivatedAt === null } : null;
}

/**
 * The user's standing, from a per-process cache of a few seconds; concurrent
 * requests of one user share one lookup. Null for a user that does not exist.
 */
export function sessionStanding(db: DbOrTx, userId: string, now = Date.now()): Promise<Standing | null> {
  const cache = cacheOf(db);
  const hit = cache.get(userId);
  if (hit && now - hit.at < STANDING_CACHE_MS) return hit.standing;
  if (hit) cache.delete(userId);
  const standing = loadStanding(db, userId);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(userId, { standing, at: now });
  // A failed lookup is not remembered: the next request asks again.
  standing.catch(() => cache.delete(userId));
  return standing;
}

/**
 * Whether a session signed in at `epoch` still belongs to an active user.
 * In-process callers that hold no JWT (tests, the bench) pass no epoch: only
 * the account's being active is checked for them.
 */
export async function sessionIsCurrent(db: DbOrTx, userId: string, epoch: number | undefined): Promise<boolean> {
  const standing = await sessionStanding(db, userId);
  return standing?.active === true && (epoch === undefined || standing.epoch === epoch);
}

/** Drops this process's cached standing of a user (after it changed here). */
export function forgetStanding(db: DbOrTx, userId: string): void {
  cacheByDb.get(db)?.delete(userId);
}

/**
 * Ends every session of a user: raises the epoch their JWTs must carry and
 * closes their realtime connections through the outbox (after commit, and
 * retried if Soketi is down). Call inside commitAndAnnounce; returns the new epoch.
 */
export async function endSessions(tx: DbOrTx, userId: string): Promise<number> {
  const [row] = await tx
    .update(users)
    .set({ sessionEpoch: sql`${users.sessionEpoch} + 1` })
    .where(eq(users.id, userId))
    .returning({ epoch: users.sessionEpoch });
  await enqueueEvent(tx, userChannel(userId), "connections.end", { userId });
  return row?.epoch ?? 0;
}
