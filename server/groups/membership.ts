import { and, eq, sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import { type Member, members } from "@/db/schema";
import type { Db, Tx } from "@/db/types";
import { AppError } from "../errors";
import { userChannel } from "../realtime/channels";
import { commitAndAnnounce, enqueueEvent } from "../realtime/announce";
import {
  displayNames,
  listOfNames,
  lockGroupForChange,
  META_USER_IDS,
  nextGroupVersion,
  recordGroupChange,
  type SystemNote,
  uuidArray,
} from "./changes";
import { requireExistingUsers } from "./info";
import {
  type AddMembersInput,
  type GroupDeps,
  type LeaveGroupInput,
  memberLimit,
  type RemoveMemberInput,
  requireManager,
  requireRoom,
  type SetRoleInput,
} from "./rules";

/**
 * Soketi checks membership only when a channel is subscribed, so a former
 * member's open sockets are closed: after the sync hint (announced in this
 * order), through the outbox, so a Soketi outage delays it but never loses it.
 * All of the user's sockets close, other tabs too; they reconnect and
 * resubscribe where still allowed. Removal is rare enough for that.
 */
function endRealtimeAccess(tx: Tx, userId: string) {
  return enqueueEvent(tx, userChannel(userId), "connections.end", { userId });
}

async function currentMember(tx: Tx, conversationId: string, userId: string): Promise<Member> {
  const [row] = await tx
    .select()
    .from(members)
    .where(and(eq(members.conversationId, conversationId), eq(members.userId, userId)));
  if (!row || row.leftAt) throw new AppError("NOT_FOUND", "That person is not a member of this group");
  return row;
}

/**
 * Adds people in one batch (owner and admins). They see history from their
 * join on: joined_seq is the group's seq before the "added" message. A
 * former member's tombstone row is revived. People already in the group
 * are skipped; if that is everyone, nothing is written.
 */
export async function addMembers(
  db: Db,
  actorId: string,
  input: AddMembersInput,
  deps: GroupDeps,
): Promise<{ version: number; added: number }> {
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const { group, actor } = await lockGroupForChange(tx, input.conversationId, actorId);
    requireManager(actor.role, "add members");
    const ids = [...new Set(input.userIds)].filter((id) => id !== actorId);
    await requireExistingUsers(tx, ids);
    const already = await queryRows<{ user_id: string }>(
      tx,
      sql`select user_id from members
          where conversation_id = ${group.id} and user_id = any(${uuidArray(ids)}) and left_at is null`,
    );
    const present = new Set(already.map((r) => r.user_id));
    const newIds = ids.filter((id) => !present.has(id));
    if (newIds.length === 0) return { version: group.version, added: 0 };
    requireRoom(group.memberCount, newIds.length, memberLimit(deps));

    const version = await nextGroupVersion(tx, group.id, newIds);
    await tx.execute(sql`
      insert into members (conversation_id, user_id, role, joined_seq, read_seq, delivered_seq, version)
      select ${group.id}, u.id, 'member', ${group.lastSeq}, ${group.lastSeq}, ${group.lastSeq}, ${version}
      from unnest(${uuidArray(newIds)}) as u(id)
      on conflict (conversation_id, user_id) do update set
        role = 'member', joined_seq = excluded.joined_seq, read_seq = excluded.read_seq,
        delivered_seq = excluded.delivered_seq, version = excluded.version, joined_at = now(),
        left_at = null, left_seq = null`);
    const [actorName, ...names] = await displayNames(tx, [actorId, ...newIds.slice(0, 3)]);
    await recordGroupChange(tx, {
      group,
      version,
      actorId,
      notes: [
        {
          body: `${actorName} added ${listOfNames(names, newIds.length)}`,
          meta: { type: "member_added", userIds: newIds.slice(0, META_USER_IDS), count: newIds.length },
        },
      ],
    });
    // The conversation list of each new member gains this group.
    await enqueueEvent(tx, newIds.map(userChannel), "conversation.new", { conversationId: group.id });
    return { version, added: newIds.length };
  });
}

/**
 * Removes a member (owner and admins; only the owner removes an admin; the
 * owner cannot be removed). The removed member keeps history up to and
 * including the "removed" message and learns of it through sync.
 */
export async function removeMember(
  db: Db,
  actorId: string,
  input: RemoveMemberInput,
  deps: GroupDeps,
): Promise<{ version: number }> {
  const result = await commitAndAnnounce(db, deps.publisher, async (tx) => {
    const { group, actor } = await lockGroupForChange(tx, input.conversationId, actorId);
    if (input.userId === actorId) throw new AppError("BAD_REQUEST", "To leave the group, use leave");
    requireManager(actor.role, "remove members");
    const target = await currentMember(tx, group.id, input.userId);
    if (target.role === "owner") throw new AppError("FORBIDDEN", "The owner cannot be removed");
    if (target.role === "admin" && actor.role !== "owner") {
      throw new AppError("FORBIDDEN", "Only the owner can remove an admin");
    }

    const version = await nextGroupVersion(tx, group.id, []);
    // The next seq is the "removed" message: we hold the group lock, so it is exactly lastSeq + 1.
    await tx
      .update(members)
      .set({ leftAt: sql`now()`, leftSeq: group.lastSeq + 1, version })
      .where(and(eq(members.conversationId, group.id), eq(members.userId, target.userId)));
    const [actorName, targetName] = await displayNames(tx, [actorId, target.userId]);
    await recordGroupChange(tx, {
      group,
      version,
      actorId,
      formerMemberIds: [target.userId],
      notes: [{ body: `${actorName} removed ${targetName}`, meta: { type: "member_removed", userId: target.userId } }],
    });
    await endRealtimeAccess(tx, target.userId);
    return { version };
  });
  return result;
}

/**
 * Leaves a group. An owner hands ownership to the longest-standing admin,
 * else the longest-standing member; the last member leaving archives it.
 */
export async function leaveGroup(
  db: Db,
  actorId: string,
  input: LeaveGroupInput,
  deps: GroupDeps,
): Promise<{ version: number; archived: boolean; newOwnerId: string | null }> {
  const result = await commitAndAnnounce(db, deps.publisher, async (tx) => {
    const { group, actor } = await lockGroupForChange(tx, input.conversationId, actorId);
    const [successor] = await tx
      .select({ userId: members.userId })
      .from(members)
      .where(
        and(eq(members.conversationId, group.id), sql`${members.leftAt} is null`, sql`${members.userId} <> ${actorId}`),
      )
      .orderBy(sql`${members.role} = 'admin' desc`, members.joinedAt, members.userId)
      .limit(1);
    const archived = !successor;
    const newOwnerId = actor.role === "owner" && successor ? successor.userId : null;

    const version = await nextGroupVersion(tx, group.id, []);
    await tx
      .update(members)
      .set({ leftAt: sql`now()`, leftSeq: group.lastSeq + 1, version })
      .where(and(eq(members.conversationId, group.id), eq(members.userId, actorId)));
    const [actorName, ownerName] = await displayNames(tx, newOwnerId ? [actorId, newOwnerId] : [actorId]);
    const notes: SystemNote[] = [{ body: `${actorName} left`, meta: { type: "member_left", userId: actorId } }];
    if (newOwnerId) {
      await tx
        .update(members)
        .set({ role: "owner", version })
        .where(and(eq(members.conversationId, group.id), eq(members.userId, newOwnerId)));
      notes.push({
        body: `${ownerName} is now the owner`,
        meta: { type: "role_changed", userId: newOwnerId, role: "owner" },
      });
    }
    await recordGroupChange(tx, {
      group,
      version,
      actorId,
      formerMemberIds: [actorId],
      notes,
      info: archived ? { archivedAt: new Date() } : undefined,
    });
    await endRealtimeAccess(tx, actorId);
    return { version, archived, newOwnerId };
  });
  return result;
}

/**
 * Changes a member's role. Only the owner makes or unmakes admins; making
 * someone the owner hands ownership over (the old owner becomes an admin).
 * An admin may step down to member.
 */
export async function setRole(
  db: Db,
  actorId: string,
  input: SetRoleInput,
  deps: GroupDeps,
): Promise<{ version: number }> {
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const { group, actor } = await lockGroupForChange(tx, input.conversationId, actorId);
    const self = input.userId === actorId;
    if (self && actor.role === "owner") {
      throw new AppError("BAD_REQUEST", "Make someone else the owner first");
    }
    const stepsDown = self && actor.role === "admin" && input.role === "member";
    if (!stepsDown && actor.role !== "owner") throw new AppError("FORBIDDEN", "Only the owner can change roles");
    const target = self ? actor : await currentMember(tx, group.id, input.userId);
    if (target.role === input.role) return { version: group.version };

    const version = await nextGroupVersion(tx, group.id, []);
    await tx
      .update(members)
      .set({ role: input.role, version })
      .where(and(eq(members.conversationId, group.id), eq(members.userId, target.userId)));
    if (input.role === "owner") {
      await tx
        .update(members)
        .set({ role: "admin", version })
        .where(and(eq(members.conversationId, group.id), eq(members.userId, actorId)));
    }
    const [actorName, targetName] = await displayNames(tx, [actorId, target.userId]);
    const body =
      input.role === "owner"
        ? `${actorName} made ${targetName} the owner`
        : input.role === "admin"
          ? `${actorName} made ${targetName} an admin`
          : stepsDown
            ? `${actorName} is no longer an admin`
            : `${actorName} removed ${targetName} as admin`;
    await recordGroupChange(tx, {
      group,
      version,
      actorId,
      notes: [{ body, meta: { type: "role_changed", userId: target.userId, role: input.role } }],
    });
    return { version };
  });
}
