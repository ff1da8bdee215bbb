import { and, eq, gt, inArray, isNull, ne, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { members, type PresenceStatus, users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { AppError } from "../errors";

/** What peers see of a user: one of online, away, busy, offline, and when they were last seen. */
export type UserPresence = { userId: string; status: PresenceStatus; lastSeenAt: string | null };

/** Statuses a user may choose; null goes back to automatic. */
export const manualStatuses = ["online", "away", "busy"] as const;
export type ManualStatus = (typeof manualStatuses)[number];

export const presenceColumns = {
  id: users.id,
  presenceStatus: users.presenceStatus,
  presenceManual: users.presenceManual,
  presenceExpiresAt: users.presenceExpiresAt,
  lastSeenAt: users.lastSeenAt,
};

export type PresenceRow = {
  id: string;
  presenceStatus: PresenceStatus;
  presenceManual: PresenceStatus | null;
  presenceExpiresAt: Date | null;
  lastSeenAt: Date | null;
};

/** Present (online, away or busy) until the last heartbeat or webhook expires. */
export function isLive(row: PresenceRow, now: Date): boolean {
  return row.presenceStatus !== "offline" && row.presenceExpiresAt !== null && row.presenceExpiresAt > now;
}

/** A chosen status wins while the user is present; nobody shows as busy while gone. */
export function effectiveStatus(row: PresenceRow, now: Date): PresenceStatus {
  if (!isLive(row, now)) return "offline";
  return row.presenceManual ?? row.presenceStatus;
}

/**
 * The status peers were last told. It ignores expiry on purpose: an expired
 * but not yet swept user was never announced offline, so the sweeper (not a
 * late heartbeat) is what owes peers an event.
 */
export function announcedStatus(row: PresenceRow): PresenceStatus {
  if (row.presenceStatus === "offline") return "offline";
  return row.presenceManual ?? row.presenceStatus;
}

export function toUserPresence(row: PresenceRow, now: Date): UserPresence {
  return { userId: row.id, status: effectiveStatus(row, now), lastSeenAt: row.lastSeenAt?.toISOString() ?? null };
}

/**
 * Presence of the given users as the viewer may see it: themselves and people
 * they share a current conversation with. Others are left out, so an outsider
 * learns nothing (not even that the id exists).
 */
export async function getPresence(
  db: DbOrTx,
  viewerId: string,
  userIds: string[],
  options: { now?: Date } = {},
): Promise<UserPresence[]> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return [];
  const now = options.now ?? new Date();
  const viewer = alias(members, "viewer_member");
  const shared = db
    .select({ one: sql`1` })
    .from(members)
    .innerJoin(
      viewer,
      and(eq(viewer.conversationId, members.conversationId), eq(viewer.userId, viewerId), isNull(viewer.leftAt)),
    )
    .where(and(eq(members.userId, users.id), isNull(members.leftAt)));
  const rows = await db
    .select(presenceColumns)
    .from(users)
    .where(and(inArray(users.id, ids), sql`(${users.id} = ${viewerId} or exists ${shared})`));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [toUserPresence(row, now)] : [];
  });
}

/**
 * How many current members are present, computed on demand: large groups get
 * this number instead of a pushed event per status change.
 */
export async function countOnlineMembers(
  db: DbOrTx,
  conversationId: string,
  options: { now?: Date } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const [row] = await db
    .select({ online: sql<number>`count(*)::int` })
    .from(members)
    .innerJoin(users, eq(users.id, members.userId))
    .where(
      and(
        eq(members.conversationId, conversationId),
        isNull(members.leftAt),
        ne(users.presenceStatus, "offline"),
        gt(users.presenceExpiresAt, now),
      ),
    );
  return Number(row?.online ?? 0);
}

/** The user's own presence, with the status they chose (null: automatic). */
export async function getOwnPresence(
  db: DbOrTx,
  userId: string,
  options: { now?: Date } = {},
): Promise<UserPresence & { manual: PresenceStatus | null }> {
  const [row] = await db.select(presenceColumns).from(users).where(eq(users.id, userId));
  if (!row) throw new AppError("UNAUTHORIZED", "Your account no longer exists");
  return { ...toUserPresence(row, options.now ?? new Date()), manual: row.presenceManual };
}
