import { eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import { conversations, members, users } from "@/db/schema";
import type { Db } from "@/db/types";
import { AppError } from "../errors";
import { userChannel } from "../realtime/channels";
import { commitAndAnnounce, enqueueEvent } from "../realtime/announce";
import type { Publisher } from "../realtime/publisher";

export const openDmInput = z.object({ userId: z.uuid("userId must be a UUID") });

/** The pair of user ids, smaller first: the same key whoever opens the DM. */
export const dmKeyFor = (a: string, b: string) => (a < b ? `${a}:${b}` : `${b}:${a}`);

export type OpenedDm = { conversationId: string; created: boolean };

/**
 * Returns the one DM between two users, creating it on first use. Concurrent
 * first calls race on the unique dm_key: the loser's insert does nothing and
 * it reads the winner's row.
 */
export async function openDm(
  db: Db,
  userId: string,
  peerId: string,
  deps: { publisher: Publisher },
): Promise<OpenedDm> {
  if (peerId === userId) throw new AppError("BAD_REQUEST", "You cannot open a direct conversation with yourself");
  const dmKey = dmKeyFor(userId, peerId);

  const existing = await findDm(db, dmKey);
  if (existing) return { conversationId: existing, created: false };

  const [peer] = await db.select({ id: users.id }).from(users).where(eq(users.id, peerId));
  if (!peer) throw new AppError("NOT_FOUND", "User not found");

  const created = await commitAndAnnounce(db, deps.publisher, async (tx) => {
    // DMs carry membership versions like groups, so sync sees them (DESIGN invariant 6).
    const [stamp] = await queryRows<{ v: string }>(tx, sql`select nextval('chorus_version_seq') as v`);
    const version = Number(stamp.v);
    const [row] = await tx
      .insert(conversations)
      .values({ kind: "dm", dmKey, createdBy: userId, memberCount: 2, version })
      .onConflictDoNothing({ target: conversations.dmKey })
      .returning({ id: conversations.id });
    if (!row) return null;
    await tx.insert(members).values([
      { conversationId: row.id, userId, joinedSeq: 0, version },
      { conversationId: row.id, userId: peerId, joinedSeq: 0, version },
    ]);
    await tx
      .update(users)
      .set({ syncVersion: sql`greatest(${users.syncVersion}, ${version})` })
      .where(inArray(users.id, [userId, peerId]));
    // Both users' channels: the peer's list shows it, and so do the opener's other devices.
    await enqueueEvent(tx, [userChannel(peerId), userChannel(userId)], "conversation.new", {
      conversationId: row.id,
    });
    return { conversationId: row.id };
  });

  if (!created) {
    const winner = await findDm(db, dmKey);
    if (!winner) throw new Error(`DM ${dmKey} conflicted but cannot be found`);
    return { conversationId: winner, created: false };
  }
  return { conversationId: created.conversationId, created: true };
}

async function findDm(db: Db, dmKey: string): Promise<string | null> {
  const [row] = await db.select({ id: conversations.id }).from(conversations).where(eq(conversations.dmKey, dmKey));
  return row?.id ?? null;
}
