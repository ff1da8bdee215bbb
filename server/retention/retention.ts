import { startBackgroundLoop } from "../background-loop";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import { conversations } from "@/db/schema";
import type { Db } from "@/db/types";
import { MAX_RETENTION_DAYS } from "@/lib/limits";
import { env } from "../env";
import { AppError } from "../errors";
import { logger } from "../logger";
import type { Membership } from "../messaging/membership";

const log = logger.child({ domain: "retention" });

export const setRetentionInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  days: z
    .number("days must be a number or null")
    .int("days must be a whole number")
    .min(1, "Keep messages at least one day")
    .max(MAX_RETENTION_DAYS, `Keep messages at most ${MAX_RETENTION_DAYS} days`)
    .nullable(),
});

/** The group's owner sets how long its messages are kept; null follows RETENTION_DAYS. */
export async function setRetention(
  db: Db,
  membership: Membership,
  input: z.infer<typeof setRetentionInput>,
): Promise<{ retentionDays: number | null }> {
  if (membership.conversation.kind !== "group") {
    throw new AppError("BAD_REQUEST", "Only a group's owner sets how long it keeps messages");
  }
  if (membership.member.role !== "owner") {
    throw new AppError("FORBIDDEN", "Only the group's owner sets how long it keeps messages");
  }
  await db.update(conversations).set({ retentionDays: input.days }).where(eq(conversations.id, input.conversationId));
  log.info({ conversationId: input.conversationId, days: input.days }, "retention set");
  return { retentionDays: input.days };
}

export type PurgeOptions = {
  now?: Date;
  /** RETENTION_DAYS; conversations without an override keep everything when null. */
  globalDays?: number | null;
  /** Messages deleted per statement, over all conversations. */
  batch?: number;
  /** Oldest messages looked at per conversation per statement. */
  perConversation?: number;
};

/**
 * One bounded pass of retention: deletes up to `batch` messages older than
 * their conversation's retention, oldest first, and records in each
 * conversation how far history was removed (so history shows the cut and
 * unread never counts a removed message). Each conversation is read from its
 * oldest kept message, at most `perConversation` rows, so a pass costs the
 * same whatever the history's size. SKIP LOCKED lets every instance run it.
 */
export async function purgeExpired(db: Db, options: PurgeOptions = {}): Promise<{ deleted: number }> {
  const now = options.now ?? new Date();
  const globalDays = options.globalDays === undefined ? (env.RETENTION_DAYS ?? null) : options.globalDays;
  const batch = options.batch ?? 500;
  const perConversation = options.perConversation ?? batch;
  const rows = await queryRows<{ deleted: number }>(
    db,
    sql`with due as (
          select c.id, c.retained_from_seq,
                 ${now.toISOString()}::timestamptz
                   - make_interval(days => coalesce(c.retention_days, ${globalDays}::int)) as cutoff
          from conversations c
          where coalesce(c.retention_days, ${globalDays}::int) is not null and c.last_seq > c.retained_from_seq
        ), doomed as (
          select old.conversation_id, old.seq
          from due
          cross join lateral (
            select m.conversation_id, m.seq, m.created_at
            from messages m
            where m.conversation_id = due.id and m.seq > due.retained_from_seq
            order by m.seq
            limit ${perConversation}
          ) old
          where old.created_at < due.cutoff
          limit ${batch}
        ), locked as (
          select m.conversation_id, m.seq
          from messages m join doomed d on d.conversation_id = m.conversation_id and d.seq = m.seq
          for update of m skip locked
        ), unmentioned as (
          delete from mentions mn using locked l
          where mn.conversation_id = l.conversation_id and mn.seq = l.seq
        ), gone as (
          delete from messages m using locked l
          where m.conversation_id = l.conversation_id and m.seq = l.seq
          returning m.conversation_id, m.seq
        ), cut as (
          update conversations c
          set retained_from_seq = greatest(c.retained_from_seq, g.max_seq),
              last_message_preview = case when g.max_seq >= c.last_seq then null else c.last_message_preview end
          from (select conversation_id, max(seq) as max_seq from gone group by conversation_id) g
          where c.id = g.conversation_id
          returning c.id
        )
        select (select count(*) from gone)::int as deleted`,
  );
  const deleted = rows[0]?.deleted ?? 0;
  if (deleted > 0) log.info({ deleted }, "expired messages deleted");
  return { deleted };
}

/** Background worker: a bounded pass every interval, passes back to back while there is a backlog. */
export function startRetentionWorker(db: Db, options: PurgeOptions & { intervalMs?: number } = {}) {
  const intervalMs = options.intervalMs ?? 60_000;
  const batch = options.batch ?? 500;
  return startBackgroundLoop(intervalMs, async (stopped) => {
    try {
      for (let pass = 0; pass < 20 && !stopped(); pass++) {
        const { deleted } = await purgeExpired(db, { ...options, now: undefined, batch });
        if (deleted < batch) break;
      }
    } catch (error) {
      log.error({ err: error }, "retention pass failed; retrying on the next interval");
    }
  });
}
