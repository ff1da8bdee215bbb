import { eq, sql } from "drizzle-orm";
import { type Conversation, conversations } from "@/db/schema";
import type { Db, DbOrTx, Tx } from "@/db/types";
import { AppError } from "../errors";
import { requireMembership } from "../messaging/membership";
import { userChannel } from "../realtime/channels";
import { commitAndAnnounce, enqueueEvent } from "../realtime/announce";
import {
  displayNames,
  type GroupChange,
  type SystemNote,
  lockGroupForChange,
  META_USER_IDS,
  nextGroupVersion,
  recordGroupChange,
  uuidArray,
} from "./changes";
import {
  type CreateGroupInput,
  createGroupInput,
  type GroupDeps,
  memberLimit,
  requireManager,
  requireRoom,
  type UpdateGroupInput,
} from "./rules";

/** Group info as clients hold it (the `groups` of a sync delta). */
export type GroupInfo = {
  id: string;
  name: string;
  avatarUrl: string | null;
  announcement: string | null;
  memberCount: number;
  createdBy: string | null;
  createdAt: string;
  version: number;
};

export const toGroupInfo = (row: Conversation): GroupInfo => ({
  id: row.id,
  name: row.name ?? "",
  avatarUrl: row.avatarUrl,
  announcement: row.announcement,
  memberCount: row.memberCount,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
  version: row.version,
});

/** Group info and the caller's role; members only. */
export async function getGroup(db: DbOrTx, userId: string, conversationId: string) {
  const { conversation, member } = await requireMembership(db, conversationId, userId);
  if (conversation.kind !== "group") throw new AppError("BAD_REQUEST", "This is a direct conversation, not a group");
  return { ...toGroupInfo(conversation), myRole: member.role };
}

export async function requireExistingUsers(tx: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const [row] = await tx
    .select({ found: sql<number>`count(*)::int` })
    .from(sql`users`)
    .where(sql`id = any(${uuidArray(ids)})`);
  if (row.found !== ids.length) {
    throw new AppError(
      "NOT_FOUND",
      ids.length === 1 ? "That person does not exist" : "Some of these people do not exist",
    );
  }
}

/** The new group's info; `id` and `conversationId` are the same. */
export type CreatedGroup = GroupInfo & { conversationId: string };

/**
 * Creates a group: the creator is its owner, everyone else a member, all
 * joined at seq 0 so they see the whole history, starting with "created".
 */
export async function createGroup(
  db: Db,
  creatorId: string,
  rawInput: CreateGroupInput,
  deps: GroupDeps,
): Promise<CreatedGroup> {
  const input = createGroupInput.parse(rawInput);
  const memberIds = [...new Set(input.memberIds)].filter((id) => id !== creatorId);
  requireRoom(1, memberIds.length, memberLimit(deps));

  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    await requireExistingUsers(tx, memberIds);
    const [created] = await tx
      .insert(conversations)
      .values({
        kind: "group",
        name: input.name,
        avatarUrl: input.avatarUrl ?? null,
        announcement: input.announcement || null,
        createdBy: creatorId,
      })
      .returning();
    const version = await nextGroupVersion(tx, null, [creatorId, ...memberIds]);
    await tx.execute(sql`
      insert into members (conversation_id, user_id, role, joined_seq, read_seq, delivered_seq, version)
      select ${created.id}, u.id, case when u.id = ${creatorId} then 'owner' else 'member' end, 0, 0, 0, ${version}
      from unnest(${uuidArray([creatorId, ...memberIds])}) as u(id)`);
    const [creatorName] = await displayNames(tx, [creatorId]);
    await recordGroupChange(tx, {
      group: created,
      version,
      actorId: creatorId,
      notes: [
        {
          body: `${creatorName} created the group "${input.name}"`,
          meta: {
            type: "group_created",
            name: input.name,
            userIds: memberIds.slice(0, META_USER_IDS),
            count: memberIds.length,
          },
        },
      ],
    });
    // Every device of every member, the creator's included, lists the new group at once.
    await enqueueEvent(tx, [creatorId, ...memberIds].map(userChannel), "conversation.new", {
      conversationId: created.id,
    });
    const [group] = await tx.select().from(conversations).where(eq(conversations.id, created.id));
    return { ...toGroupInfo(group), conversationId: created.id };
  });
}

/**
 * Changes name, avatar or announcement (owner and admins). Fields equal to
 * what the group already has are not a change: nothing is written for them.
 */
export async function updateGroup(
  db: Db,
  actorId: string,
  input: UpdateGroupInput,
  deps: GroupDeps,
): Promise<{ version: number; group: GroupInfo }> {
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const { group, actor } = await lockGroupForChange(tx, input.conversationId, actorId);
    requireManager(actor.role, "change the group info");
    const [actorName] = await displayNames(tx, [actorId]);

    const info: GroupChange["info"] = {};
    const notes: SystemNote[] = [];
    if (input.name !== undefined && input.name !== group.name) {
      info.name = input.name;
      notes.push({
        body: `${actorName} renamed the group to "${input.name}"`,
        meta: { type: "renamed", from: group.name, to: input.name },
      });
    }
    if (input.avatarUrl !== undefined && input.avatarUrl !== group.avatarUrl) {
      info.avatarUrl = input.avatarUrl;
      notes.push({
        body: input.avatarUrl ? `${actorName} changed the group photo` : `${actorName} removed the group photo`,
        meta: { type: "avatar_changed", avatarUrl: input.avatarUrl },
      });
    }
    const announcement = input.announcement === undefined ? undefined : input.announcement || null;
    if (announcement !== undefined && announcement !== group.announcement) {
      info.announcement = announcement;
      notes.push({
        body: announcement ? `${actorName} changed the announcement` : `${actorName} removed the announcement`,
        meta: { type: "announcement_changed" },
      });
    }
    if (notes.length === 0) return { version: group.version, group: toGroupInfo(group) };

    const version = await nextGroupVersion(tx, group.id, []);
    await recordGroupChange(tx, { group, version, actorId, notes, info });
    const [updated] = await tx.select().from(conversations).where(eq(conversations.id, group.id));
    return { version, group: toGroupInfo(updated) };
  });
}
