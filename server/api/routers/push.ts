import { pushConfig } from "../../push/config";
import { subscribe, subscribeInput, unsubscribe, unsubscribeInput } from "../../push/subscriptions";
import { createTRPCRouter, protectedProcedure } from "../trpc";

export const pushRouter = createTRPCRouter({
  /** The VAPID public key browsers subscribe with (applicationServerKey). */
  publicKey: protectedProcedure.query(() => ({ publicKey: pushConfig().vapid.publicKey })),
  subscribe: protectedProcedure
    .input(subscribeInput)
    .mutation(({ ctx, input }) => subscribe(ctx.db, ctx.user.id, input)),
  unsubscribe: protectedProcedure
    .input(unsubscribeInput)
    .mutation(({ ctx, input }) => unsubscribe(ctx.db, ctx.user.id, input)),
});
