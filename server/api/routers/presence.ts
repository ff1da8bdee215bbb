import { z } from "zod";
import { countOnlineMembers, getOwnPresence, getPresence, manualStatuses } from "../../presence/status";
import { presenceSettings } from "../../presence/settings";
import { heartbeat, setStatus } from "../../presence/transitions";
import { createTRPCRouter, memberProcedure, protectedProcedure } from "../trpc";

export const MAX_PRESENCE_IDS = 200;

const presenceStatus = z.enum(["online", "away", "busy", "offline"]);
const userPresence = z.object({ userId: z.string(), status: presenceStatus, lastSeenAt: z.string().nullable() });
const heartbeatInput = z
  .object({ away: z.boolean().default(false), open: z.uuid("open must be a conversation id").optional() })
  .default({ away: false });
const heartbeatOutput = userPresence.extend({ openLastSeq: z.number().nullable() });

// Online counts of large groups are asked for by every open client; a few seconds of staleness is fine.
const ONLINE_COUNT_CACHE_MS = 10_000;
const onlineCounts = new Map<string, { online: number; at: number }>();

export const presenceRouter = createTRPCRouter({
  /**
   * Browser tabs call this every `heartbeatSeconds`; `away` when hidden or idle. `open`: the
   * conversation the tab shows, whose last seq comes back (null unless the caller is a member).
   */
  heartbeat: protectedProcedure
    .input(heartbeatInput)
    .output(heartbeatOutput)
    .mutation(async ({ ctx, input }) => {
      const beat = await heartbeat(ctx.db, ctx.user.id, {
        away: input.away,
        openConversationId: input.open,
        publisher: ctx.publisher,
      });
      return { ...beat.presence, openLastSeq: beat.openLastSeq };
    }),

  /** Busy, away or online by choice; null returns to automatic. */
  setStatus: protectedProcedure
    .input(z.object({ status: z.enum(manualStatuses).nullable() }))
    .output(userPresence)
    .mutation(async ({ ctx, input }) => {
      return (await setStatus(ctx.db, ctx.user.id, input.status, { publisher: ctx.publisher })).presence;
    }),

  /** Status and last seen of up to 200 users; users you share no conversation with are left out. */
  get: protectedProcedure
    .input(
      z.object({
        userIds: z
          .array(z.uuid("userIds must be UUIDs"))
          .min(1, "Ask for at least one user")
          .max(MAX_PRESENCE_IDS, `Ask for at most ${MAX_PRESENCE_IDS} users at once`),
      }),
    )
    .output(z.array(userPresence))
    .query(({ ctx, input }) => getPresence(ctx.db, ctx.user.id, input.userIds)),

  /** The caller's own presence and the status they chose (null: automatic). */
  mine: protectedProcedure
    .output(userPresence.extend({ manual: presenceStatus.nullable() }))
    .query(({ ctx }) => getOwnPresence(ctx.db, ctx.user.id)),

  /** Members present right now, for groups too large to push every status change. */
  onlineCount: memberProcedure
    .output(z.object({ online: z.number(), members: z.number() }))
    .query(async ({ ctx, input }) => {
      const now = Date.now();
      let cached = onlineCounts.get(input.conversationId);
      if (!cached || now - cached.at > ONLINE_COUNT_CACHE_MS) {
        cached = { online: await countOnlineMembers(ctx.db, input.conversationId), at: now };
        onlineCounts.set(input.conversationId, cached);
        if (onlineCounts.size > 10_000) onlineCounts.delete(onlineCounts.keys().next().value as string);
      }
      return { online: cached.online, members: ctx.membership.conversation.memberCount };
    }),

  /** Timings and limits the browser hooks follow. */
  settings: protectedProcedure.query(() => {
    const { heartbeatSeconds, idleSeconds, typingMaxMembers, fanoutMaxMembers } = presenceSettings();
    return { heartbeatSeconds, idleSeconds, typingMaxMembers, fanoutMaxMembers };
  }),
});
