import { register, registerInput } from "../../auth/accounts";
import { authThrottle } from "../../auth/throttle";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const authRouter = createTRPCRouter({
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    await authThrottle().signUp(ctx.ip);
    return register(ctx.db, input);
  }),
});
