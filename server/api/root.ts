import { adminRouter } from "./routers/admin";
import { authRouter } from "./routers/auth";
import { conversationRouter } from "./routers/conversation";
import { groupRouter } from "./routers/group";
import { messageRouter } from "./routers/message";
import { notificationRouter } from "./routers/notification";
import { presenceRouter } from "./routers/presence";
import { pushRouter } from "./routers/push";
import { syncRouter } from "./routers/sync";
import { userRouter } from "./routers/user";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  user: userRouter,
  conversation: conversationRouter,
  message: messageRouter,
  notification: notificationRouter,
  presence: presenceRouter,
  push: pushRouter,
  group: groupRouter,
  sync: syncRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller, used by tests and the bench: `createCaller({ db, user })`. */
export const createCaller = createCallerFactory(appRouter);
