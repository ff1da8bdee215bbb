import {
  notificationSettings,
  updateNotificationSettings,
  updateNotificationSettingsInput,
} from "../../notifications/levels";
import { createTRPCRouter, protectedProcedure } from "../trpc";

export const notificationRouter = createTRPCRouter({
  settings: protectedProcedure.query(({ ctx }) => notificationSettings(ctx.db, ctx.user.id)),
  updateSettings: protectedProcedure
    .input(updateNotificationSettingsInput)
    .mutation(({ ctx, input }) => updateNotificationSettings(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
});
