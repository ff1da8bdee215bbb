import { z } from "zod";
import type { MemberRole } from "@/db/schema";
import { MAX_ANNOUNCEMENT_CHARS, MAX_GROUP_NAME_CHARS } from "@/lib/limits";
import { textField } from "@/lib/text-field";
import { env } from "../env";
import { AppError } from "../errors";
import type { Publisher } from "../realtime/publisher";
import { avatarUrlSchema } from "../users/profile";

// One request may name at most this many people; the member limit still applies.
export const MAX_BATCH = 10_000;

export const groupNameSchema = textField({ field: "Group name", max: MAX_GROUP_NAME_CHARS });

export const announcementSchema = textField({
  field: "Announcement",
  max: MAX_ANNOUNCEMENT_CHARS,
  multiline: true,
  allowEmpty: true,
});

const userIds = z
  .array(z.uuid("Each member id must be a UUID"))
  .max(MAX_BATCH, `At most ${MAX_BATCH} people per request`);

export const createGroupInput = z.object({
  name: groupNameSchema,
  memberIds: userIds.default([]),
  avatarUrl: avatarUrlSchema.nullish(),
  announcement: announcementSchema.nullish(),
});

const conversationId = z.uuid("conversationId must be a UUID");

export const updateGroupInput = z
  .object({
    conversationId,
    name: groupNameSchema.optional(),
    avatarUrl: avatarUrlSchema.nullable().optional(),
    // An empty announcement clears it.
    announcement: announcementSchema.nullable().optional(),
  })
  .refine(
    (v) => v.name !== undefined || v.avatarUrl !== undefined || v.announcement !== undefined,
    "Nothing to update",
  );

export const addMembersInput = z.object({
  conversationId,
  userIds: userIds.min(1, "Choose at least one person to add"),
});

export const removeMemberInput = z.object({ conversationId, userId: z.uuid("userId must be a UUID") });

export const leaveGroupInput = z.object({ conversationId });

export const setRoleInput = z.object({
  conversationId,
  userId: z.uuid("userId must be a UUID"),
  role: z.enum(["owner", "admin", "member"], "Role must be owner, admin or member"),
});

export const listMembersInput = z.object({
  conversationId,
  cursor: z.string().max(200).nullish(),
  limit: z.number().int().min(1).max(200).default(50),
});

export type CreateGroupInput = z.input<typeof createGroupInput>;
export type UpdateGroupInput = z.infer<typeof updateGroupInput>;
export type AddMembersInput = z.infer<typeof addMembersInput>;
export type RemoveMemberInput = z.infer<typeof removeMemberInput>;
export type LeaveGroupInput = z.infer<typeof leaveGroupInput>;
export type SetRoleInput = z.infer<typeof setRoleInput>;
export type ListMembersInput = z.input<typeof listMembersInput>;

export type GroupDeps = {
  publisher: Publisher;
  /** Overrides GROUP_MEMBER_LIMIT (tests). */
  memberLimit?: number;
};

export const memberLimit = (deps: GroupDeps) => deps.memberLimit ?? env.GROUP_MEMBER_LIMIT;

export function requireRoom(current: number, adding: number, limit: number): void {
  if (current + adding > limit) {
    const room = Math.max(0, limit - current);
    throw new AppError(
      "BAD_REQUEST",
      `A group can have at most ${limit.toLocaleString("en-US")} members; ${
        room === 0 ? "this group is full" : `only ${room.toLocaleString("en-US")} more can join`
      }`,
    );
  }
}

export const managesMembers = (role: MemberRole) => role === "owner" || role === "admin";

export function requireManager(role: MemberRole, what: string): void {
  if (!managesMembers(role)) throw new AppError("FORBIDDEN", `Only the owner and admins can ${what}`);
}
