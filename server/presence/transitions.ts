import { and, eq, inArray, lte, ne, sql } from "drizzle-orm";
import { users } from "@/db/schema";
import type { Db, DbOrTx } from "@/db/types";
import { queryRows } from "@/db/client";
import { AppError } from "../errors";
import { commitAndAnnounce } from "../realtime/announce";
import { parseChannel } from "../realtime/channels";
import type { Publisher } from "../realtime/publisher";
import { uuidArray } from "../groups/changes";
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

/** Where presence changes are announced after commit. */
export type Announcing = { publisher: Publisher };

/** What a presence change did: the user's presence now, and how many events it announced. */
export type PresenceResult = { presence: UserPresence; announced: number };

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
  // NO KEY UPDATE: presence never changes the key, and foreign-key checks (a member row for this user) need not wait.
  const [row] = await tx.select(presenceColumns).from(users).where(eq(users.id, userId)).for("no key update");
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
  const change = presenceChange(before, after);
  if (!change) return { presence: toUserPresence(after, now), announced: 0 };
  await enqueuePresenceChanges(tx, [change], fanoutMaxMembers);
  return { presence: toUserPresence(after, now), announced: 1 };
}

/** What peers are told, when the status they were told changes. */
function presenceChange(before: PresenceRow, after: PresenceRow): UserPresence | null {
  const status = announcedStatus(after);
  if (status === announcedStatus(before)) return null;
  return { userId: after.id, status, lastSeenAt: after.lastSeenAt?.toISOString() ?? null };
}

/**
 * A heartbeat's answer: the user's presence, and the open conversation's last
 * seq when the tab named one (null when the user is not a member of it).
 */
export type HeartbeatResult = PresenceResult & { openLastSeq: number | null };

/** The last seq of a conversation the user is a current member of: a scalar subquery, so it rides along. */
const lastSeqIfMember = (userId: string, conversationId: string) =>
  sql`(select c.last_seq from conversations c
        join members m on m.conversation_id = c.id and m.user_id = ${userId}::uuid and m.left_at is null
        where c.id = ${conversationId}::uuid)`;

/**
 * A browser tab says it is alive. `away` (tab hidden or idle) only wins when
 * no device reported activity within a heartbeat interval (plus slack): with a
 * hidden laptop tab and an active phone, the user stays online instead of
 * flapping on every beat.
 */
export async function heartbeat(
  db: Db,
  userId: string,
  options: PresenceOptions &
    Announcing & {
      away?: boolean;
      /**
       * The conversation the tab shows: its last seq comes back, so a message whose live event was
       * lost (a Soketi node cut off from the others) shows within a beat even when no later one follows.
       */
      openConversationId?: string;
    },
): Promise<HeartbeatResult> {
  const { now, ttlMs, fanoutMaxMembers, heartbeatMs } = resolve(options);
  const open = options.openConversationId;
  const expiresAt = new Date(now.getTime() + ttlMs);
  const activeWindowMs = heartbeatMs + 15_000;
  // Most beats change nothing peers see: one statement renews the expiry,
  // applying the same rules as below, and only when the announced status
  // stays what it was. Anything else takes the locked path that announces.
  const next = options.away
    ? sql`case when presence_status = 'online' and presence_expires_at > ${now.toISOString()}::timestamptz
                 and last_seen_at > ${new Date(now.getTime() - activeWindowMs).toISOString()}::timestamptz
               then 'online' else 'away' end`
    : sql`'online'`;
  const [renewed] = await queryRows<{
    id: string;
    presence_status: PresenceRow["presenceStatus"];
    presence_manual: PresenceRow["presenceManual"];
    last_seen_at: Date | string | null;
    open_last_seq: number | string | null;
  }>(
    db,
    sql`update users set presence_status = ${next}, presence_expires_at = ${expiresAt.toISOString()}::timestamptz
          ${options.away ? sql`` : sql`, last_seen_at = ${now.toISOString()}::timestamptz`}
        where id = ${userId}::uuid and presence_status <> 'offline'
          and (presence_manual is not null or presence_status = ${next})
        returning id, presence_status, presence_manual, last_seen_at,
          ${open ? lastSeqIfMember(userId, open) : sql`null`} as open_last_seq`,
  );
  if (renewed) {
    const row: PresenceRow = {
      id: renewed.id,
      presenceStatus: renewed.presence_status,
      presenceManual: renewed.presence_manual,
      presenceExpiresAt: expiresAt,
      lastSeenAt: renewed.last_seen_at === null ? null : new Date(renewed.last_seen_at),
    };
    const openLastSeq = renewed.open_last_seq === null ? null : Number(renewed.open_last_seq);
    return { presence: toUserPresence(row, now), announced: 0, openLastSeq };
  }
  const changed = await commitAndAnnounce(db, options.publisher, async (tx) => {
    const before = await lockPresence(tx, userId);
    if (!before) throw new AppError("NOT_FOUND", "User not found");
    if (!options.away) {
      return applyPatch(
        tx,
        before,
        { presenceStatus: "online", presenceExpiresAt: expiresAt, lastSeenAt: now },
        now,
        fanoutMaxMembers,
      );
    }
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
  // The locked path runs when the status peers see changes (a few beats a day per user): one more read is fine.
  if (!open) return { ...changed, openLastSeq: null };
  const [row] = await queryRows<{ last_seq: number | string | null }>(
    db,
    sql`select ${lastSeqIfMember(userId, open)} as last_seq`,
  );
  return { ...changed, openLastSeq: row?.last_seq == null ? null : Number(row.last_seq) };
}

/** The user picks a status (busy, away, online) or goes back to automatic with null. */
export async function setStatus(
  db: Db,
  userId: string,
  status: ManualStatus | null,
  options: PresenceOptions & Announcing,
): Promise<PresenceResult> {
  const { now, fanoutMaxMembers } = resolve(options);
  return commitAndAnnounce(db, options.publisher, async (tx) => {
    const before = await lockPresence(tx, userId);
    if (!before) throw new AppError("NOT_FOUND", "User not found");
    return applyPatch(tx, before, { presenceManual: status }, now, fanoutMaxMembers);
  });
}

export type SoketiWebhookEvent = { name: string; channel?: string };

/**
 * Soketi says a user's own channel gained its first subscriber (online) or
 * lost its last one (offline, last seen then). Soketi gathers events for a
 * moment (WEBHOOK_BATCH_MS) and sends them in order with one time, so each
 * user's last event in a request is where they end up. Webhook requests can
 * arrive out of order, so an event older than the user's latest signal is
 * ignored. A request is one short transaction over the users it can lock
 * at once (SKIP LOCKED, so it never waits while holding locks and cannot
 * deadlock with a transaction that locks many users, such as a group
 * created with them); a user locked elsewhere is then applied on its own.
 */
export async function applyWebhookEvents(
  db: Db,
  events: SoketiWebhookEvent[],
  options: PresenceOptions & Announcing & { timeMs?: number },
): Promise<{ applied: number; announced: number }> {
  const { now, ttlMs, fanoutMaxMembers } = resolve(options);
  const at = new Date(options.timeMs ?? now.getTime());
  const occupiedLast = new Map<string, boolean>();
  for (const event of events) {
    if (event.name !== "channel_occupied" && event.name !== "channel_vacated") continue;
    const channel = event.channel ? parseChannel(event.channel) : null;
    if (channel?.kind !== "user") continue;
    occupiedLast.set(channel.userId, event.name === "channel_occupied");
  }
  if (occupiedLast.size === 0) return { applied: 0, announced: 0 };
  const patches: Record<"online" | "offline", PresencePatch> = {
    online: { presenceStatus: "online", presenceExpiresAt: new Date(now.getTime() + ttlMs), lastSeenAt: at },
    offline: { presenceStatus: "offline", presenceExpiresAt: null, lastSeenAt: at },
  };
  const busy = new Set(occupiedLast.keys());
  const batch = await commitAndAnnounce(db, options.publisher, async (tx) => {
    const rows = await tx
      .select(presenceColumns)
      .from(users)
      .where(sql`${users.id} = any(${uuidArray([...occupiedLast.keys()])})`)
      .orderBy(users.id)
      .for("no key update", { skipLocked: true });
    for (const row of rows) busy.delete(row.id);
    const online: string[] = [];
    const offline: string[] = [];
    const changes: UserPresence[] = [];
    for (const before of rows) {
      if (before.lastSeenAt && before.lastSeenAt > at) continue;
      const occupied = occupiedLast.get(before.id) === true;
      (occupied ? online : offline).push(before.id);
      const change = presenceChange(before, { ...before, ...patches[occupied ? "online" : "offline"] });
      if (change) changes.push(change);
    }
    for (const [ids, patch] of [
      [online, patches.online],
      [offline, patches.offline],
    ] as const) {
      if (ids.length > 0)
        await tx
          .update(users)
          .set(patch)
          .where(sql`${users.id} = any(${uuidArray(ids)})`);
    }
    await enqueuePresenceChanges(tx, changes, fanoutMaxMembers);
    return { applied: online.length + offline.length, announced: changes.length };
  });
  // Locked by another transaction (or unknown): one short transaction each, which may wait.
  for (const userId of [...busy].sort()) {
    const result = await commitAndAnnounce(db, options.publisher, async (tx) => {
      const before = await lockPresence(tx, userId);
      if (!before || (before.lastSeenAt && before.lastSeenAt > at)) return null;
      return applyPatch(tx, before, patches[occupiedLast.get(userId) ? "online" : "offline"], now, fanoutMaxMembers);
    });
    if (result) {
      batch.applied += 1;
      batch.announced += result.announced;
    }
  }
  return batch;
}

/**
 * Marks users whose heartbeats and webhooks stopped (a crashed browser, a lost
 * vacate webhook) offline, last seen at their last heartbeat. SKIP LOCKED lets
 * every app instance run it at once.
 */
export async function sweepExpired(
  db: Db,
  options: PresenceOptions & Announcing & { limit?: number },
): Promise<{ swept: number }> {
  const { now, ttlMs, fanoutMaxMembers } = resolve(options);
  return commitAndAnnounce(db, options.publisher, async (tx) => {
    const due = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(ne(users.presenceStatus, "offline"), lte(users.presenceExpiresAt, now)))
      .orderBy(users.presenceExpiresAt)
      .limit(options.limit ?? 500)
      .for("no key update", { skipLocked: true });
    if (due.length === 0) return { swept: 0 };
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
    await enqueuePresenceChanges(
      tx,
      swept.map((row) => ({
        userId: row.id,
        status: "offline" as const,
        lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
      })),
      fanoutMaxMembers,
    );
    return { swept: swept.length };
  });
}
