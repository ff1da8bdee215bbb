import { register, registerInput } from "../../auth/accounts";
import { changePassword, changePasswordInput, signOutEverywhere } from "../../auth/sessions";
import { authThrottle } from "../../auth/throttle";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc";

export const authRouter = createTRPCRouter({
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    await authThrottle().signUp(ctx.ip);
    return register(ctx.db, input);
  }),
  signOutEverywhere: protectedProcedure.mutation(({ ctx }) =>
    signOutEverywhere(ctx.db, ctx.user.id, { publisher: ctx.publisher }),
  ),
  changePassword: protectedProcedure
    .input(changePasswordInput)
    .mutation(({ ctx, input }) => changePassword(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
});
