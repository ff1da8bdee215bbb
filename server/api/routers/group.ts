import { createGroup, getGroup, updateGroup } from "../../groups/info";
import { addMembers, leaveGroup, removeMember, setRole } from "../../groups/membership";
import { listMembers } from "../../groups/roster";
import {
  addMembersInput,
  createGroupInput,
  leaveGroupInput,
  listMembersInput,
  removeMemberInput,
  setRoleInput,
  updateGroupInput,
} from "../../groups/rules";
import { createTRPCRouter, memberProcedure, protectedProcedure } from "../trpc";

export const groupRouter = createTRPCRouter({
  create: protectedProcedure
    .input(createGroupInput)
    .mutation(({ ctx, input }) => createGroup(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  get: memberProcedure.query(({ ctx, input }) => getGroup(ctx.db, ctx.user.id, input.conversationId)),
  members: memberProcedure.input(listMembersInput).query(({ ctx, input }) => listMembers(ctx.db, ctx.user.id, input)),
  update: memberProcedure
    .input(updateGroupInput)
    .mutation(({ ctx, input }) => updateGroup(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  addMembers: memberProcedure
    .input(addMembersInput)
    .mutation(({ ctx, input }) => addMembers(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  removeMember: memberProcedure
    .input(removeMemberInput)
    .mutation(({ ctx, input }) => removeMember(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  leave: memberProcedure
    .input(leaveGroupInput)
    .mutation(({ ctx, input }) => leaveGroup(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  setRole: memberProcedure
    .input(setRoleInput)
    .mutation(({ ctx, input }) => setRole(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
});
