import { authRouter } from "./routers/auth";
import { conversationRouter } from "./routers/conversation";
import { messageRouter } from "./routers/message";
import { userRouter } from "./routers/user";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  user: userRouter,
  conversation: conversationRouter,
  message: messageRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller, used by tests and the bench: `createCaller({ db, user })`. */
export const createCaller = createCallerFactory(appRouter);
