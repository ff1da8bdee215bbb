import { eq, sql } from "drizzle-orm";
import { users } from "@/db/schema";
import type { DbHandle } from "@/db/client";
import { prepared } from "@/db/prepared";
import type { Db, DbOrTx } from "@/db/types";
import { logger } from "../logger";
import { enqueueEvent } from "../realtime/announce";
import { userChannel } from "../realtime/channels";

const log = logger.child({ domain: "auth" });

/** What decides whether a session JWT still counts: the user's epoch, and whether they may sign in at all. */
export type Standing = { epoch: number; active: boolean };

/**
 * How long one process trusts a looked-up standing. Every API call and
 * channel auth checks it, so this bounds how long a session outlives
 * "sign out everywhere", a password change or a deactivation on another
 * instance (this one forgets at once).
 */
export const STANDING_CACHE_MS = 2_000;
/**
 * How long a standing is trusted while this process hears every change as it
 * commits (watchStanding): a user calling less often than every 2 s (a
 * heartbeat every 45 s) would otherwise cost a lookup on nearly every call.
 */
export const WATCHED_STANDING_CACHE_MS = 5 * 60_000;
/** Committed standing changes are announced here (NOTIFY), to every instance. */
export const STANDING_CHANNEL = "chorus_standing";
/** How often a watcher proves its LISTEN connection alive by hearing its own ping. */
export const STANDING_PING_MS = 1_000;
const MAX_CACHED = 50_000;

type Entry = { standing: Promise<Standing | null>; at: number };
type Watch = { heardAt: number };
// On globalThis: the lean API path and Next's bundled pages are separate module graphs in one
// process, and a change made through one (a reactivation) must be forgotten by both.
const globalForStanding = globalThis as unknown as {
  chorusStanding?: WeakMap<object, Map<string, Entry>>;
  chorusStandingWatch?: WeakMap<object, Watch>;
};
globalForStanding.chorusStanding ??= new WeakMap();
globalForStanding.chorusStandingWatch ??= new WeakMap();
const cacheByDb = globalForStanding.chorusStanding;
const watchByDb = globalForStanding.chorusStandingWatch;

/**
 * Past STANDING_CACHE_MS an entry is trusted only while the watcher has heard
 * from its connection within that long: a dropped LISTEN connection (whose
 * notifications are lost) falls back to the short bound by itself.
 */
function trustedForMs(db: DbOrTx, now: number): number {
  const watch = watchByDb.get(db);
  return watch && now - watch.heardAt < STANDING_CACHE_MS ? WATCHED_STANDING_CACHE_MS : STANDING_CACHE_MS;
}

/**
 * Keeps this process's standings for minutes instead of seconds: every
 * standing change NOTIFYs at commit, and the listener forgets that user. It
 * pings itself every second; each time it (re)connects it forgets everything,
 * since notifications sent while it was away are lost.
 */
export async function watchStanding(
  db: Db,
  listen: NonNullable<DbHandle["listen"]>,
  options: { pingMs?: number } = {},
): Promise<{ stop: () => Promise<void> }> {
  const watch: Watch = { heardAt: Number.NEGATIVE_INFINITY };
  await listen(
    STANDING_CHANNEL,
    (payload) => {
      watch.heardAt = Date.now();
      if (payload) forgetStanding(db, payload);
    },
    () => {
      cacheByDb.get(db)?.clear();
      watch.heardAt = Date.now();
    },
  );
  watchByDb.set(db, watch);
  const ping = setInterval(() => {
    db.execute(sql`select pg_notify(${STANDING_CHANNEL}, '')`).catch((error: unknown) => {
      // The database is away: entries fall back to the short bound until a ping is heard again.
      log.warn({ err: error }, "standing watcher ping failed");
    });
  }, options.pingMs ?? STANDING_PING_MS);
  ping.unref();
  return {
    stop: async () => {
      clearInterval(ping);
      watchByDb.delete(db);
    },
  };
}

/** Announces a committed change of a user's standing to every instance's watcher (sent at commit). */
export async function announceStandingChange(tx: DbOrTx, userId: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${STANDING_CHANNEL}, ${userId})`);
}

function cacheOf(db: DbOrTx): Map<string, Entry> {
  let cache = cacheByDb.get(db);
  if (!cache) {
    cache = new Map();
    cacheByDb.set(db, cache);
  }
  return cache;
}

async function loadStanding(db: DbOrTx, userId: string): Promise<Standing | null> {
  const [row] = await prepared(db, "load_standing", (d) =>
    d
      .select({ epoch: users.sessionEpoch, deactivatedAt: users.deactivatedAt })
      .from(users)
      .where(eq(users.id, sql.placeholder("id")))
      .limit(1)
      .prepare("load_standing"),
  ).execute({ id: userId });
  return row ? { epoch: row.epoch, active: row.deactivatedAt === null } : null;
}

/**
 * The user's standing, from a per-process cache of a few seconds; concurrent
 * requests of one user share one lookup. Null for a user that does not exist.
 */
export function sessionStanding(db: DbOrTx, userId: string, now = Date.now()): Promise<Standing | null> {
  const cache = cacheOf(db);
  const hit = cache.get(userId);
  if (hit && now - hit.at < trustedForMs(db, now)) return hit.standing;
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
  await announceStandingChange(tx, userId);
  await enqueueEvent(tx, userChannel(userId), "connections.end", { userId });
  return row?.epoch ?? 0;
}
