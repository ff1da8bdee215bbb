import { register, registerInput } from "../../auth/accounts";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const authRouter = createTRPCRouter({
  register: publicProcedure.input(registerInput).mutation(({ ctx, input }) => register(ctx.db, input)),
});
