import { and, eq, inArray, isNull, lte, or } from "drizzle-orm";
import { conversations, members } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { conversationChannel, userChannel } from "../realtime/channels";
import { enqueueEvent } from "../realtime/announce";
import type { UserPresence } from "./status";

// One outbox row is one Soketi trigger, which takes at most 100 channels.
const CHANNELS_PER_EVENT = 100;

/**
 * The channels that hear about a user's status: their own (other devices)
 * and each DM and small group they are in. Large groups are skipped: their
 * members ask for an online count instead.
 */
export async function presenceChannels(
  tx: DbOrTx,
  userIds: string[],
  fanoutMaxMembers: number,
): Promise<Map<string, string[]>> {
  const channels = new Map(userIds.map((id) => [id, [userChannel(id)]]));
  if (userIds.length === 0) return channels;
  const rows = await tx
    .select({ userId: members.userId, conversationId: members.conversationId })
    .from(members)
    .innerJoin(conversations, eq(conversations.id, members.conversationId))
    .where(
      and(
        inArray(members.userId, userIds),
        isNull(members.leftAt),
        isNull(conversations.archivedAt),
        or(eq(conversations.kind, "dm"), lte(conversations.memberCount, fanoutMaxMembers)),
      ),
    );
  for (const row of rows) channels.get(row.userId)?.push(conversationChannel(row.conversationId));
  return channels;
}

/**
 * Records one `presence` event per changed user, addressed to every affected
 * channel at once: Soketi fans it out, so the cost follows the number of
 * conversations, never the number of members.
 */
export async function enqueuePresenceChanges(
  tx: DbOrTx,
  changes: UserPresence[],
  fanoutMaxMembers: number,
): Promise<void> {
  if (changes.length === 0) return;
  const channels = await presenceChannels(
    tx,
    changes.map((c) => c.userId),
    fanoutMaxMembers,
  );
  for (const change of changes) {
    const list = channels.get(change.userId) ?? [userChannel(change.userId)];
    for (let i = 0; i < list.length; i += CHANNELS_PER_EVENT) {
      await enqueueEvent(tx, list.slice(i, i + CHANNELS_PER_EVENT), "presence", change);
    }
  }
}
