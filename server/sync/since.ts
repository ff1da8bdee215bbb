import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { prepared } from "@/db/prepared";
import { queryRows } from "@/db/client";
import { type MemberRole, users } from "@/db/schema";
import type { Db } from "@/db/types";
import { AppError } from "../errors";
import { uuidArray } from "../groups/changes";
import type { GroupInfo } from "../groups/info";

export const sinceInput = z.object({
  version: z.number("version must be a number").int("version must be an integer").min(0, "version cannot be negative"),
});

/** A member row as clients hold it; `leftAt` set is a tombstone: drop that member. */
export type SyncMember = {
  conversationId: string;
  userId: string;
  role: MemberRole;
  joinedAt: string;
  leftAt: string | null;
  version: number;
};

/**
 * `membersReset`: the caller joined (or rejoined, or changed role) after the
 * version asked for, so `members` holds ALL current members of this group;
 * replace what you had rather than merging.
 */
export type SyncGroup = GroupInfo & { membersReset: boolean };

export type SyncDelta = { version: number; groups: SyncGroup[]; members: SyncMember[]; removed: string[] };

type GroupRow = {
  id: string;
  name: string | null;
  avatar_url: string | null;
  announcement: string | null;
  member_count: number;
  created_by: string | null;
  created_at: Date | string;
  version: string | number;
  my_left_at: Date | string | null;
  my_version: string | number;
};

type MemberRow = {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  joined_at: Date | string;
  left_at: Date | string | null;
  version: string | number;
};

const iso = (v: Date | string) => new Date(v).toISOString();

/**
 * What changed in the caller's groups after `version`. When nothing did, the
 * answer comes from the caller's own users row alone: one indexed read,
 * however many groups they are in (DESIGN invariant 6).
 */
export async function syncSince(db: Db, userId: string, version: number): Promise<SyncDelta> {
  const [me] = await prepared(db, "sync_version", (d) =>
    d
      .select({ syncVersion: users.syncVersion })
      .from(users)
      .where(eq(users.id, sql.placeholder("id")))
      .prepare("sync_version"),
  ).execute({ id: userId });
  if (!me) throw new AppError("UNAUTHORIZED", "Your account no longer exists");
  if (me.syncVersion <= version) return { version, groups: [], members: [], removed: [] };

  // One snapshot: the version returned covers exactly the rows returned.
  return db.transaction(
    async (tx) => {
      const [snap] = await tx.select({ syncVersion: users.syncVersion }).from(users).where(eq(users.id, userId));
      const rows = await queryRows<GroupRow>(
        tx,
        sql`select c.id, c.name, c.avatar_url, c.announcement, c.member_count, c.created_by, c.created_at, c.version,
                   m.left_at as my_left_at, m.version as my_version
            from members m join conversations c on c.id = m.conversation_id
            where m.user_id = ${userId} and c.kind = 'group'
              and ((m.left_at is null and c.version > ${version}) or (m.left_at is not null and m.version > ${version}))`,
      );
      const groups: SyncGroup[] = [];
      const removed: string[] = [];
      for (const row of rows) {
        if (row.my_left_at) {
          removed.push(row.id);
          continue;
        }
        groups.push({
          id: row.id,
          name: row.name ?? "",
          avatarUrl: row.avatar_url,
          announcement: row.announcement,
          memberCount: Number(row.member_count),
          createdBy: row.created_by,
          createdAt: iso(row.created_at),
          version: Number(row.version),
          membersReset: Number(row.my_version) > version,
        });
      }
      const resetIds = groups.filter((g) => g.membersReset).map((g) => g.id);
      const deltaIds = groups.filter((g) => !g.membersReset).map((g) => g.id);
      const memberRows =
        groups.length === 0
          ? []
          : await queryRows<MemberRow>(
              tx,
              sql`select conversation_id, user_id, role, joined_at, left_at, version from members
                  where (conversation_id = any(${uuidArray(deltaIds)}) and version > ${version})
                     or (conversation_id = any(${uuidArray(resetIds)}) and left_at is null)
                  order by conversation_id, user_id`,
            );
      return {
        version: snap.syncVersion,
        groups,
        members: memberRows.map((r) => ({
          conversationId: r.conversation_id,
          userId: r.user_id,
          role: r.role,
          joinedAt: iso(r.joined_at),
          leftAt: r.left_at ? iso(r.left_at) : null,
          version: Number(r.version),
        })),
        removed,
      };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}
