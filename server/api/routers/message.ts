import { historyInput, readHistory } from "../../messaging/history";
import { sendMessage, sendMessageInput } from "../../messaging/send";
import { createTRPCRouter, memberProcedure, protectedProcedure } from "../trpc";

export const messageRouter = createTRPCRouter({
  send: memberProcedure.input(sendMessageInput).mutation(({ ctx, input }) => sendMessage(ctx.db, ctx.user.id, input)),
  // Not memberProcedure: a member who left still reads history up to the moment they left.
  history: protectedProcedure.input(historyInput).query(({ ctx, input }) => readHistory(ctx.db, ctx.user.id, input)),
});
