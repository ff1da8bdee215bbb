import { sql } from "drizzle-orm";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { queryRows } from "@/db/client";
import type { NotifyLevel } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { MAX_PUSH_PREVIEW_CHARS } from "@/lib/limits";
import { notificationTag, notificationText, type PushPayload } from "@/lib/notification-text";
import { logger } from "../logger";
import { effectiveLevelSql } from "../notifications/levels";
import { createLimiter, spend } from "../rate-limit";
import type { WireMessage } from "../realtime/events";
import type { PushConfig } from "./config";
import { deliverPush, type PushOutcome, type PushTarget } from "./delivery";
import { forgetSubscription } from "./subscriptions";

const log = logger.child({ domain: "push" });

/** Recipients read per query, and pushes in flight at once: a 10,000-member group never stalls other work. */
export const PUSH_BATCH_SIZE = 500;
const PUSH_CONCURRENCY = 50;

export type PushPlanDeps = {
  config: PushConfig;
  /** Per-user push rate; the default is shared by the process (Redis when configured). */
  limiter?: RateLimiterAbstract;
  batchSize?: number;
};

export type PushPassResult = {
  /** message.new rows taken from the outbox. */
  messages: number;
  /** Pushes the push services accepted. */
  delivered: number;
  /** Subscriptions deleted because their push service answered 404/410. */
  gone: number;
  failed: number;
  /** Dropped by the per-user rate limit. */
  limited: number;
};

const globalForPush = globalThis as unknown as { chorusPushLimiter?: RateLimiterAbstract };

function limiterFor(deps: PushPlanDeps): RateLimiterAbstract {
  if (deps.limiter) return deps.limiter;
  globalForPush.chorusPushLimiter ??= createLimiter({
    keyPrefix: "push:user",
    points: deps.config.ratePerMinute,
    durationSeconds: 60,
  });
  return globalForPush.chorusPushLimiter;
}

/**
 * One pass of the push planner: takes published message.new rows from the
 * outbox (never in the send request: the send writes nothing for pushes) and
 * pushes each to the members who should hear of it. Claimed rows are marked
 * first, so several app instances never push the same message twice
 * (a crash mid-message loses its remaining pushes rather than repeating them).
 */
export async function planPushes(
  db: DbOrTx,
  deps: PushPlanDeps,
  options: { limit?: number } = {},
): Promise<PushPassResult> {
  const claimed = await queryRows<{ id: number | string; payload: WireMessage }>(
    db,
    sql`update outbox set push_planned_at = now()
        where id in (
          select id from outbox
          where event = 'message.new' and push_planned_at is null and processed_at is not null
          order by id limit ${options.limit ?? 100}
          for update skip locked)
        returning id, payload`,
  );
  const result: PushPassResult = { messages: claimed.length, delivered: 0, gone: 0, failed: 0, limited: 0 };
  const reachable = await conversationsWithSubscribers(
    db,
    claimed.map((r) => r.payload.conversationId),
  );
  for (const row of claimed.sort((a, b) => Number(a.id) - Number(b.id))) {
    if (!reachable.has(row.payload.conversationId)) continue;
    try {
      await pushMessage(db, deps, row.payload, result);
    } catch (error) {
      log.error({ err: error, outboxId: Number(row.id) }, "planning pushes for a message failed");
    }
  }
  return result;
}

/** One query per pass: most conversations have nobody with push on, and cost nothing more. */
async function conversationsWithSubscribers(db: DbOrTx, conversationIds: string[]): Promise<Set<string>> {
  const ids = [...new Set(conversationIds)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (ids.length === 0) return new Set();
  const rows = await queryRows<{ conversation_id: string }>(
    db,
    sql`select distinct m.conversation_id from members m join push_subscriptions s on s.user_id = m.user_id
        where m.conversation_id = any(${`{${ids.join(",")}}`}::uuid[]) and m.left_at is null`,
  );
  return new Set(rows.map((r) => r.conversation_id));
}

type Recipient = {
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  preview: boolean;
  unread: number;
  kind: "dm" | "group";
  conversation_name: string | null;
};

/**
 * Who hears of one message: current members other than the sender, with a
 * subscription, not present in any tab (a present user's page alerts them
 * itself), not snoozed, who have not read it yet, and whose level asks for
 * it: any message at `all`; at `mentions`, a DM, an @mention of them or @all.
 * Read in keyset batches over (user, endpoint) so a huge group is many short queries.
 */
async function pushMessage(db: DbOrTx, deps: PushPlanDeps, message: WireMessage, result: PushPassResult) {
  if (message.kind !== "text" || !message.senderId) return;
  const batchSize = deps.batchSize ?? PUSH_BATCH_SIZE;
  const limiter = limiterFor(deps);
  let after: { userId: string; endpoint: string } | null = null;
  for (;;) {
    const recipients: Recipient[] = await queryRows<Recipient>(
      db,
      sql`select m.user_id, s.endpoint, s.p256dh, s.auth, u.notify_preview as preview,
                 greatest(1, c.last_seq - greatest(m.read_seq, m.joined_seq))::int as unread,
                 c.kind, c.name as conversation_name
          from conversations c
          join messages msg on msg.conversation_id = c.id and msg.seq = ${message.seq}
          join members m on m.conversation_id = c.id
          join users u on u.id = m.user_id
          join push_subscriptions s on s.user_id = m.user_id
          where c.id = ${message.conversationId}::uuid and msg.deleted_at is null
            and m.left_at is null and m.user_id <> ${message.senderId}::uuid
            and m.read_seq < ${message.seq}
            and (m.snooze_until is null or m.snooze_until <= now())
            and not (u.presence_status <> 'offline' and u.presence_expires_at > now())
            and ${levelAllows(message.seq)}
            ${after ? sql`and (m.user_id, s.endpoint) > (${after.userId}::uuid, ${after.endpoint})` : sql``}
          order by m.user_id, s.endpoint
          limit ${batchSize}`,
    );
    if (recipients.length === 0) return;
    await sendBatch(db, deps, limiter, message, recipients, result);
    if (recipients.length < batchSize) return;
    const last = recipients[recipients.length - 1];
    after = { userId: last.user_id, endpoint: last.endpoint };
    // Let requests waiting on this process run between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function levelAllows(seq: number) {
  const level = effectiveLevelSql();
  return sql`(${level} = ${"all" satisfies NotifyLevel} or (${level} = ${"mentions" satisfies NotifyLevel} and (
      c.kind = 'dm' or msg.mentions_all
      or exists (select 1 from mentions mn where mn.user_id = m.user_id and mn.conversation_id = c.id and mn.seq = ${seq}))))`;
}

async function sendBatch(
  db: DbOrTx,
  deps: PushPlanDeps,
  limiter: RateLimiterAbstract,
  message: WireMessage,
  recipients: Recipient[],
  result: PushPassResult,
) {
  // One rate-limit point per user per message, whatever their number of devices.
  const allowed = new Map<string, boolean>();
  for (const r of recipients) {
    if (allowed.has(r.user_id)) continue;
    const state = await spend(limiter, r.user_id);
    allowed.set(r.user_id, state.consumedPoints <= deps.config.ratePerMinute);
  }
  const queue = recipients.filter((r) => {
    if (allowed.get(r.user_id)) return true;
    result.limited++;
    return false;
  });
  const worker = async () => {
    for (let r = queue.shift(); r; r = queue.shift()) {
      const outcome = await deliverPush(target(r), JSON.stringify(payloadFor(message, r)), deps.config, {
        // Push services replace an undelivered push with the same topic: one per conversation.
        topic: message.conversationId.replaceAll("-", ""),
      });
      await record(db, r, outcome, result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, queue.length) }, worker));
}

const target = (r: Recipient): PushTarget => ({ endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth });

export function payloadFor(
  message: WireMessage,
  r: Pick<Recipient, "preview" | "unread" | "kind" | "conversation_name">,
): PushPayload {
  const body =
    message.body.length > MAX_PUSH_PREVIEW_CHARS
      ? `${message.body.slice(0, MAX_PUSH_PREVIEW_CHARS - 1)}…`
      : message.body;
  const text = notificationText({
    kind: r.kind,
    conversationName: r.conversation_name,
    senderName: message.senderName ?? "Someone",
    preview: r.preview ? body : null,
    unread: r.unread,
  });
  return {
    ...text,
    tag: notificationTag(message.conversationId),
    url: `/c/${message.conversationId}`,
    conversationId: message.conversationId,
    seq: message.seq,
    unread: r.unread,
  };
}

async function record(db: DbOrTx, r: Recipient, outcome: PushOutcome, result: PushPassResult) {
  if (outcome.kind === "delivered") {
    result.delivered++;
  } else if (outcome.kind === "gone") {
    result.gone++;
    await forgetSubscription(db, r.endpoint);
    log.info({ userId: r.user_id, status: outcome.status }, "push subscription gone; deleted");
  } else {
    result.failed++;
    log.warn({ userId: r.user_id, status: outcome.status, reason: outcome.reason }, "push not delivered");
  }
}
