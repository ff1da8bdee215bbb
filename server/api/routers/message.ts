import { historyInput, readHistory } from "../../messaging/history";
import { markDelivered, markDeliveredInput, markRead, markReadInput } from "../../messaging/read-state";
import { receiptsFor, receiptsInput } from "../../messaging/receipts";
import { sendMessage, sendMessageInput } from "../../messaging/send";
import { createTRPCRouter, memberProcedure, protectedProcedure } from "../trpc";

// send and markRead check membership inside their one statement (refusing with
// NOT_FOUND/FORBIDDEN as memberProcedure does), so they skip its extra query.

export const messageRouter = createTRPCRouter({
  send: protectedProcedure
    .input(sendMessageInput)
    .mutation(({ ctx, input }) => sendMessage(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  // Not memberProcedure: a member who left still reads history up to the moment they left.
  history: protectedProcedure.input(historyInput).query(({ ctx, input }) => readHistory(ctx.db, ctx.user.id, input)),
  markRead: protectedProcedure
    .input(markReadInput)
    .mutation(({ ctx, input }) => markRead(ctx.db, { userId: ctx.user.id, ...input }, { publisher: ctx.publisher })),
  // A batch across conversations: membership of each is checked in one query by markDelivered.
  markDelivered: protectedProcedure
    .input(markDeliveredInput)
    .mutation(({ ctx, input }) => markDelivered(ctx.db, { userId: ctx.user.id, items: input.items })),
  receipts: memberProcedure
    .input(receiptsInput)
    .query(({ ctx, input }) => receiptsFor(ctx.db, { userId: ctx.user.id, ...input }, { membership: ctx.membership })),
});
