import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import type { Db } from "@/db/types";
import type { SessionUser } from "../auth/options";
import type { Publisher } from "../realtime/publisher";
import { requireSiteAdmin } from "../admin/admins";
import { sessionIsCurrent } from "../auth/standing";
import { AppError, isDatabaseUnavailable } from "../errors";
import { logger } from "../logger";
import { requireMembership } from "../messaging/membership";
import { spendMutation } from "../rate-limit";

export type Context = {
  db: Db;
  user: SessionUser | null;
  /** Client address, for rate limits. */
  ip?: string;
  /** Where changes are announced after commit (tests and the bench pass their own). */
  publisher: Publisher;
};

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    const data = { ...shape.data, zodError: zodError ? z.flattenError(zodError) : null };
    if (error.code !== "BAD_REQUEST" || error.cause instanceof AppError) return { ...shape, data };
    if (zodError) return { ...shape, message: zodError.issues[0]?.message ?? "The request input is invalid", data };
    // Anything else is tRPC failing to read the body ("Cannot destructure property 'json'",
    // "Maximum call stack size exceeded"): internals, not advice.
    const { stack: _internals, ...rest } = data;
    return { ...shape, message: "The request input is malformed", data: rest };
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
  if (error.code === "INTERNAL_SERVER_ERROR" && isDatabaseUnavailable(error.cause)) {
    log.warn({ err: error.cause, path, type }, "database unavailable");
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: "The database is unavailable right now. Please try again in a moment.",
    });
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
  // Every caller, not only HTTP ones: a session ended elsewhere (signed out everywhere, a new
  // password, a deactivation) is refused within the standing cache's few seconds.
  if (!(await sessionIsCurrent(ctx.db, ctx.user.id, ctx.user.epoch))) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Your session has ended. Sign in again." });
  }
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

/** Site administration: the caller must be an active site admin, checked fresh on every call. */
export const adminProcedure = protectedProcedure.use(async ({ ctx, next }) => {
  await requireSiteAdmin(ctx.db, ctx.user.id);
  return next();
});
