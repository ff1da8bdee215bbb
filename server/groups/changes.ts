import { and, eq, sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import { type Conversation, conversations, type Member, members, users } from "@/db/schema";
import type { Tx } from "@/db/types";
import { AppError } from "../errors";
import { appendMessage } from "../messaging/append";
import { userChannel } from "../realtime/channels";
import { enqueueEvent } from "../realtime/announce";

export type SystemMessageType =
  | "group_created"
  | "member_added"
  | "member_removed"
  | "member_left"
  | "renamed"
  | "announcement_changed"
  | "avatar_changed"
  | "role_changed";

/** A Postgres uuid[] literal: one parameter however many ids (10,000 ids would exceed the bind limit). */
export const uuidArray = (ids: readonly string[]) => sql`${`{${ids.join(",")}}`}::uuid[]`;

/**
 * The group row locked for this transaction, and the actor's current
 * membership of it. Every change takes the group lock first, so changes to
 * one group are serialized and `last_seq` cannot move under us.
 */
export async function lockGroupForChange(
  tx: Tx,
  conversationId: string,
  actorId: string,
): Promise<{ group: Conversation; actor: Member }> {
  const [group] = await tx.select().from(conversations).where(eq(conversations.id, conversationId)).for("update");
  if (!group) throw new AppError("NOT_FOUND", "Conversation not found");
  const [actor] = await tx
    .select()
    .from(members)
    .where(and(eq(members.conversationId, conversationId), eq(members.userId, actorId)));
  if (!actor || actor.leftAt) throw new AppError("FORBIDDEN", "You are not a member of this conversation");
  if (group.kind !== "group") throw new AppError("BAD_REQUEST", "This is a direct conversation, not a group");
  return { group, actor };
}

/**
 * Takes the next version from the global sequence AFTER locking the users
 * rows the change will raise. Two changes touching the same user therefore
 * commit in version order, so a `sync.since` answer never skips a version
 * still in flight. `no key update` does not block the foreign-key checks of
 * concurrent message sends by the same users.
 */
export async function nextGroupVersion(tx: Tx, conversationId: string | null, alsoUserIds: string[]): Promise<number> {
  const currentMembers = conversationId
    ? sql`id in (select user_id from members where conversation_id = ${conversationId} and left_at is null)`
    : sql`false`;
  await queryRows(
    tx,
    sql`select count(*) from (
      select id from users where ${currentMembers} or id = any(${uuidArray(alsoUserIds)})
      order by id for no key update
    ) locked`,
  );
  const [row] = await queryRows<{ v: string | number }>(tx, sql`select nextval('chorus_version_seq') as v`);
  return Number(row.v);
}

export type SystemNote = { body: string; meta: { type: SystemMessageType } & Record<string, unknown> };

export type GroupChange = {
  group: Conversation;
  version: number;
  actorId: string;
  /** What happened, in the group's stream: usually one message, one per field for a multi-field update. */
  notes: SystemNote[];
  /** Users no longer members after this change who must still learn of it (removed, left). */
  formerMemberIds?: string[];
  /** Group info fields this change sets. */
  info?: Partial<Pick<Conversation, "name" | "avatarUrl" | "announcement" | "archivedAt">>;
};

/**
 * Completes a change inside its transaction: stamps the group with the new
 * version and its member count, raises sync_version of every current member
 * and of the former members named (one set-based UPDATE: group changes are
 * the one place per-member writes are allowed), writes the system message
 * and one `sync` hint to all their user channels, announced after commit.
 */
export async function recordGroupChange(tx: Tx, change: GroupChange): Promise<void> {
  const { group, version } = change;
  await tx
    .update(conversations)
    .set({
      ...change.info,
      version,
      memberCount: sql`(select count(*)::int from ${members} where ${members.conversationId} = ${group.id} and ${members.leftAt} is null)`,
    })
    .where(eq(conversations.id, group.id));

  const affected = await queryRows<{ id: string }>(
    tx,
    sql`update ${users} set sync_version = greatest(sync_version, ${version})
        where id in (select user_id from members where conversation_id = ${group.id} and left_at is null)
           or id = any(${uuidArray(change.formerMemberIds ?? [])})
        returning id`,
  );

  for (const note of change.notes) {
    await appendMessage(tx, {
      conversationId: group.id,
      senderId: change.actorId,
      kind: "system",
      body: note.body,
      meta: { ...note.meta, actorId: change.actorId, version },
    });
  }
  // One outbox row for all affected users: the publisher splits it into
  // triggers of 100 channels, and a retry re-sends the whole hint, which is
  // harmless because clients only call sync.since with their own version.
  await enqueueEvent(
    tx,
    affected.map((row) => userChannel(row.id)),
    "sync",
    { version },
  );
}

/** Display names for system message text, in the order asked. */
export async function displayNames(tx: Tx, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows<{ id: string; display_name: string }>(
    tx,
    sql`select id, display_name from users where id = any(${uuidArray(ids)})`,
  );
  const byId = new Map(rows.map((r) => [r.id, r.display_name]));
  return ids.map((id) => byId.get(id) ?? "Someone");
}

/** "Bob", "Bob and Carol", "Bob, Carol and Dan", "Bob, Carol and 9,998 others". */
export function listOfNames(names: string[], total: number): string {
  if (total <= 3 || names.length < 3) {
    if (names.length <= 1) return names[0] ?? "";
    return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  }
  const others = total - 2;
  return `${names[0]}, ${names[1]} and ${others.toLocaleString("en-US")} others`;
}

// Member ids carried in a system message's meta: enough to render it, small enough for Pusher's 10 KB.
export const META_USER_IDS = 50;
