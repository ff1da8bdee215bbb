import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import type { Db } from "@/db/types";
import type { SessionUser } from "../auth/options";
import { AppError } from "../errors";
import { logger } from "../logger";
import { requireMembership } from "../messaging/membership";
import { spendMutation } from "../rate-limit";

export type Context = {
  db: Db;
  user: SessionUser | null;
  /** Client address, for rate limits. */
  ip?: string;
};

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      data: {
        ...shape.data,
        zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
      },
    };
  },
});

const log = logger.child({ domain: "api" });

// One place maps domain errors to tRPC codes; anything unexpected is logged
// with its cause and shown to users as a generic message.
const errorMapping = t.middleware(async ({ next, path, type }) => {
  const result = await next();
  if (result.ok) return result;
  const { error } = result;
  if (error.cause instanceof AppError) {
    throw new TRPCError({ code: error.cause.code, message: error.cause.message, cause: error.cause });
  }
  if (error.code === "INTERNAL_SERVER_ERROR") {
    log.error({ err: error.cause ?? error, path, type }, "procedure failed");
    throw new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      message: "Something went wrong on our side. Please try again.",
    });
  }
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(errorMapping);

export const protectedProcedure = publicProcedure.use(async ({ ctx, type, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  if (type === "mutation") await spendMutation(ctx.user.id);
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/**
 * Procedures scoped to one conversation: the caller's current membership is
 * loaded before the handler runs, so no handler can forget the check.
 */
export const memberProcedure = protectedProcedure
  .input(z.object({ conversationId: z.uuid("conversationId must be a UUID") }))
  .use(async ({ ctx, input, next }) => {
    const membership = await requireMembership(ctx.db, input.conversationId, ctx.user.id);
    return next({ ctx: { ...ctx, membership } });
  });
