import { me, searchUsers, searchUsersInput, updateProfile, updateProfileInput } from "../../users/profile";
import { setAvatar, setAvatarInput } from "../../users/avatar";
import { createTRPCRouter, protectedProcedure } from "../trpc";

export const userRouter = createTRPCRouter({
  me: protectedProcedure.query(({ ctx }) => me(ctx.db, ctx.user.id)),
  search: protectedProcedure.input(searchUsersInput).query(({ ctx, input }) => searchUsers(ctx.db, ctx.user.id, input)),
  updateProfile: protectedProcedure
    .input(updateProfileInput)
    .mutation(({ ctx, input }) => updateProfile(ctx.db, ctx.user.id, input)),
  setAvatar: protectedProcedure
    .input(setAvatarInput)
    .mutation(({ ctx, input }) => setAvatar(ctx.db, ctx.user.id, input)),
});
