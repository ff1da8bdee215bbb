import { listConversations, listConversationsInput } from "../../messaging/conversation-list";
import { describeConversation, muteInput, setMuted } from "../../messaging/conversation";
import { openDm, openDmInput } from "../../messaging/direct";
import { createTRPCRouter, memberProcedure, protectedProcedure } from "../trpc";

export const conversationRouter = createTRPCRouter({
  list: protectedProcedure
    .input(listConversationsInput)
    .query(({ ctx, input }) => listConversations(ctx.db, ctx.user.id, input)),
  get: memberProcedure.query(({ ctx }) => describeConversation(ctx.db, ctx.membership)),
  openDm: protectedProcedure.input(openDmInput).mutation(({ ctx, input }) => openDm(ctx.db, ctx.user.id, input.userId)),
  mute: memberProcedure
    .input(muteInput)
    .mutation(({ ctx, input }) => setMuted(ctx.db, ctx.user.id, input.conversationId, input.muted)),
});
