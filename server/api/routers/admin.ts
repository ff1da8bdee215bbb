import { siteHealth } from "../../admin/health";
import { createInvite, createInviteInput } from "../../admin/invites";
import {
  deactivateUser,
  listUsers,
  listUsersInput,
  reactivateUser,
  resetPassword,
  resetPasswordInput,
  setAdmin,
  setAdminInput,
  userIdInput,
} from "../../admin/users";
import { deleteMessageInput, moderateDelete } from "../../messaging/edit";
import { adminProcedure, createTRPCRouter } from "../trpc";

export const adminRouter = createTRPCRouter({
  users: createTRPCRouter({
    list: adminProcedure.input(listUsersInput).query(({ ctx, input }) => listUsers(ctx.db, input)),
    deactivate: adminProcedure
      .input(userIdInput)
      .mutation(({ ctx, input }) => deactivateUser(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
    reactivate: adminProcedure
      .input(userIdInput)
      .mutation(({ ctx, input }) => reactivateUser(ctx.db, ctx.user.id, input)),
    resetPassword: adminProcedure
      .input(resetPasswordInput)
      .mutation(({ ctx, input }) => resetPassword(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
    setAdmin: adminProcedure.input(setAdminInput).mutation(({ ctx, input }) => setAdmin(ctx.db, ctx.user.id, input)),
  }),
  invites: createTRPCRouter({
    create: adminProcedure
      .input(createInviteInput)
      .mutation(({ ctx, input }) => createInvite(ctx.db, ctx.user.id, input)),
  }),
  messages: createTRPCRouter({
    delete: adminProcedure
      .input(deleteMessageInput)
      .mutation(({ ctx, input }) => moderateDelete(ctx.db, input, { publisher: ctx.publisher })),
  }),
  health: adminProcedure.query(({ ctx }) => siteHealth(ctx.db)),
});
