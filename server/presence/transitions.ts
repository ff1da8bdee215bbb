import { and, eq, inArray, lte, ne, sql } from "drizzle-orm";
import { users } from "@/db/schema";
import type { Db, DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { parseChannel } from "../realtime/channels";
import { enqueuePresenceChanges } from "./fanout";
import { presenceSettings } from "./settings";
import {
  announcedStatus,
  isLive,
  type ManualStatus,
  type PresenceRow,
  presenceColumns,
  toUserPresence,
  type UserPresence,
} from "./status";

export type PresenceOptions = {
  now?: Date;
  ttlSeconds?: number;
  fanoutMaxMembers?: number;
};

/** What a presence change did: the user's presence now, and outbox rows to publish after commit. */
export type PresenceResult = { presence: UserPresence; outboxIds: number[] };

function resolve(options: PresenceOptions) {
  const settings = presenceSettings();
  return {
    now: options.now ?? new Date(),
    ttlMs: (options.ttlSeconds ?? settings.ttlSeconds) * 1000,
    fanoutMaxMembers: options.fanoutMaxMembers ?? settings.fanoutMaxMembers,
    heartbeatMs: settings.heartbeatSeconds * 1000,
  };
}

async function lockPresence(tx: DbOrTx, userId: string): Promise<PresenceRow | undefined> {
  const [row] = await tx.select(presenceColumns).from(users).where(eq(users.id, userId)).for("update");
  return row;
}

type PresencePatch = Partial<Omit<PresenceRow, "id">>;

/** Writes the patch; peers hear of it only when the status they were told changes. */
async function applyPatch(
  tx: DbOrTx,
  before: PresenceRow,
  patch: PresencePatch,
  now: Date,
  fanoutMaxMembers: number,
): Promise<PresenceResult> {
  const after: PresenceRow = { ...before, ...patch };
  await tx.update(users).set(patch).where(eq(users.id, before.id));
  const status = announcedStatus(after);
  const outboxIds =
    status === announcedStatus(before)
      ? []
      : await enqueuePresenceChanges(
          tx,
          [{ userId: after.id, status, lastSeenAt: after.lastSeenAt?.toISOString() ?? null }],
          fanoutMaxMembers,
        );
  return { presence: toUserPresence(after, now), outboxIds };
}

/**
 * A browser tab says it is alive. `away` (tab hidden or idle) only wins when
 * no device reported activity within a heartbeat interval (plus slack): with a
 * hidden laptop tab and an active phone, the user stays online instead of
 * flapping on every beat.
 */
export async function heartbeat(
  db: Db,
  userId: string,
  options: PresenceOptions & { away?: boolean } = {},
): Promise<PresenceResult> {
  const { now, ttlMs, fanoutMaxMembers, heartbeatMs } = resolve(options);
  return db.transaction(async (tx) => {
    const before = await lockPresence(tx, userId);
    if (!before) throw new AppError("NOT_FOUND", "User not found");
    const expiresAt = new Date(now.getTime() + ttlMs);
    if (!options.away) {
      return applyPatch(
        tx,
        before,
        { presenceStatus: "online", presenceExpiresAt: expiresAt, lastSeenAt: now },
        now,
        fanoutMaxMembers,
      );
    }
    const activeWindowMs = heartbeatMs + 15_000;
    const recentlyActive =
      isLive(before, now) &&
      before.presenceStatus === "online" &&
      before.lastSeenAt !== null &&
      now.getTime() - before.lastSeenAt.getTime() < activeWindowMs;
    return applyPatch(
      tx,
      before,
      { presenceStatus: recentlyActive ? "online" : "away", presenceExpiresAt: expiresAt },
      now,
      fanoutMaxMembers,
    );
  });
}

/** The user picks a status (busy, away, online) or goes back to automatic with null. */
export async function setStatus(
  db: Db,
  userId: string,
  status: ManualStatus | null,
  options: PresenceOptions = {},
): Promise<PresenceResult> {
  const { now, fanoutMaxMembers } = resolve(options);
  return db.transaction(async (tx) => {
    const before = await lockPresence(tx, userId);
    if (!before) throw new AppError("NOT_FOUND", "User not found");
    return applyPatch(tx, before, { presenceManual: status }, now, fanoutMaxMembers);
  });
}

export type SoketiWebhookEvent = { name: string; channel?: string };

/**
 * Soketi says a user's own channel gained its first subscriber (online) or
 * lost its last one (offline, last seen then). Webhooks are separate HTTP
 * requests and can arrive out of order, so an event older than the user's
 * latest signal is ignored. Each event is its own short transaction: two
 * webhook requests never hold locks on several users at once.
 */
export async function applyWebhookEvents(
  db: Db,
  events: SoketiWebhookEvent[],
  options: PresenceOptions & { timeMs?: number } = {},
): Promise<{ applied: number; outboxIds: number[] }> {
  const { now, ttlMs, fanoutMaxMembers } = resolve(options);
  const at = new Date(options.timeMs ?? now.getTime());
  let applied = 0;
  const outboxIds: number[] = [];
  for (const event of events) {
    if (event.name !== "channel_occupied" && event.name !== "channel_vacated") continue;
    const channel = event.channel ? parseChannel(event.channel) : null;
    if (channel?.kind !== "user") continue;
    const result = await db.transaction(async (tx) => {
      const before = await lockPresence(tx, channel.userId);
      if (!before || (before.lastSeenAt && before.lastSeenAt > at)) return null;
      const patch: PresencePatch =
        event.name === "channel_occupied"
          ? { presenceStatus: "online", presenceExpiresAt: new Date(now.getTime() + ttlMs), lastSeenAt: at }
          : { presenceStatus: "offline", presenceExpiresAt: null, lastSeenAt: at };
      return applyPatch(tx, before, patch, now, fanoutMaxMembers);
    });
    if (result) {
      applied += 1;
      outboxIds.push(...result.outboxIds);
    }
  }
  return { applied, outboxIds };
}

/**
 * Marks users whose heartbeats and webhooks stopped (a crashed browser, a lost
 * vacate webhook) offline, last seen at their last heartbeat. SKIP LOCKED lets
 * every app instance run it at once.
 */
export async function sweepExpired(
  db: Db,
  options: PresenceOptions & { limit?: number } = {},
): Promise<{ swept: number; outboxIds: number[] }> {
  const { now, ttlMs, fanoutMaxMembers } = resolve(options);
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(ne(users.presenceStatus, "offline"), lte(users.presenceExpiresAt, now)))
      .orderBy(users.presenceExpiresAt)
      .limit(options.limit ?? 500)
      .for("update", { skipLocked: true });
    if (due.length === 0) return { swept: 0, outboxIds: [] };
    const lastBeat = sql`${users.presenceExpiresAt} - make_interval(secs => ${ttlMs / 1000})`;
    const swept = await tx
      .update(users)
      .set({
        presenceStatus: "offline",
        presenceExpiresAt: null,
        lastSeenAt: sql`greatest(${users.lastSeenAt}, ${lastBeat})`,
      })
      .where(
        inArray(
          users.id,
          due.map((row) => row.id),
        ),
      )
      .returning({ id: users.id, lastSeenAt: users.lastSeenAt });
    const outboxIds = await enqueuePresenceChanges(
      tx,
      swept.map((row) => ({
        userId: row.id,
        status: "offline" as const,
        lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
      })),
      fanoutMaxMembers,
    );
    return { swept: swept.length, outboxIds };
  });
}
