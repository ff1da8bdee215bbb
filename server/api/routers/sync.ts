import { sinceInput, syncSince } from "../../sync/since";
import { createTRPCRouter, protectedProcedure } from "../trpc";

export const syncRouter = createTRPCRouter({
  since: protectedProcedure.input(sinceInput).query(({ ctx, input }) => syncSince(ctx.db, ctx.user.id, input.version)),
});
