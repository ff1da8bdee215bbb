import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { env } from "../env";
import { type Membership, requireMembership } from "./membership";
import { parseOrBadRequest } from "./read-state";

/** The most messages one receipts call covers (a screenful is 20-50). */
export const MAX_RECEIPTS_WINDOW = 100;

/** Large-group counts are computed and cached per block of this many seqs. */
const CACHE_BLOCK = 50;

export const receiptsInput = z.object({
  fromSeq: z.number().int("fromSeq must be a whole number").min(1, "fromSeq must be 1 or more"),
  toSeq: z.number().int("toSeq must be a whole number").min(1, "toSeq must be 1 or more"),
});

export type MessageReceipt = {
  seq: number;
  senderId: string | null;
  /** Other current members who could see this message (joined before it). */
  recipients: number;
  delivered: number;
  read: number;
  /** Who read it (user ids), for groups up to the detail size only. */
  readBy?: string[];
};

export type Receipts = {
  conversationId: string;
  fromSeq: number;
  toSeq: number;
  /** False for large groups: counts only, possibly up to the cache interval old. */
  detailed: boolean;
  items: MessageReceipt[];
  /** The people named in readBy. */
  readers: { id: string; displayName: string; avatarUrl: string | null }[];
  /** A DM's other member: the sender's delivered/read ticks come from these positions. */
  peer: { userId: string; deliveredSeq: number; readSeq: number } | null;
};

type Counts = Pick<MessageReceipt, "seq" | "senderId" | "recipients" | "delivered" | "read">;

/** Large-group counts, shared by every reader opening the same window within the TTL. */
export class ReceiptsCache {
  private readonly entries = new Map<string, { expiresAt: number; value: Promise<Counts[]> }>();
  /** Times the counts were actually computed (a cache miss). */
  computed = 0;

  constructor(
    private readonly options: { ttlMs: number; maxEntries?: number; now?: () => number } = {
      ttlMs: env.RECEIPTS_CACHE_SECONDS * 1000,
    },
  ) {}

  get(key: string, compute: () => Promise<Counts[]>): Promise<Counts[]> {
    const now = (this.options.now ?? Date.now)();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    this.computed += 1;
    // The promise is cached, so readers arriving while it runs share one query.
    const value = compute();
    // A failed count is not cached; the caller still sees the error.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    this.entries.delete(key);
    this.entries.set(key, { expiresAt: now + this.options.ttlMs, value });
    const max = this.options.maxEntries ?? 2000;
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return value;
  }
}

const globalForReceipts = globalThis as unknown as { chorusReceiptsCache?: ReceiptsCache };

export function getReceiptsCache(): ReceiptsCache {
  globalForReceipts.chorusReceiptsCache ??= new ReceiptsCache();
  return globalForReceipts.chorusReceiptsCache;
}

export type ReceiptsOptions = {
  /** The caller's membership when already loaded (memberProcedure). */
  membership?: Membership;
  cache?: ReceiptsCache;
  detailMaxMembers?: number;
};

/**
 * Delivered/read counts per message of a window, from members' positions
 * (DESIGN invariant 4): never a row per message per member. Groups up to
 * RECEIPTS_DETAIL_MAX_MEMBERS also get who read; larger groups get counts,
 * cached per window for RECEIPTS_CACHE_SECONDS.
 */
export async function receiptsFor(
  db: DbOrTx,
  input: { userId: string; conversationId: string; fromSeq: number; toSeq: number },
  options: ReceiptsOptions = {},
): Promise<Receipts> {
  const window = parseOrBadRequest(receiptsInput, { fromSeq: input.fromSeq, toSeq: input.toSeq });
  if (window.toSeq < window.fromSeq) throw new AppError("BAD_REQUEST", "toSeq must not be below fromSeq");
  if (window.toSeq - window.fromSeq + 1 > MAX_RECEIPTS_WINDOW) {
    throw new AppError("BAD_REQUEST", `A receipts window covers at most ${MAX_RECEIPTS_WINDOW} messages`);
  }
  const { conversation, member } =
    options.membership ?? (await requireMembership(db, input.conversationId, input.userId));
  // Members see history after they joined; the window never reaches past the last message.
  const fromSeq = Math.max(window.fromSeq, member.joinedSeq + 1);
  const toSeq = Math.min(window.toSeq, conversation.lastSeq);
  const detailMax = options.detailMaxMembers ?? env.RECEIPTS_DETAIL_MAX_MEMBERS;
  const detailed = conversation.memberCount <= detailMax;
  const result: Receipts = {
    conversationId: conversation.id,
    fromSeq,
    toSeq,
    detailed,
    items: [],
    readers: [],
    peer: null,
  };
  if (fromSeq > toSeq) return result;

  if (!detailed) {
    // Cached by fixed blocks of seqs, not by the exact window: readers scrolled
    // to slightly different places still share the same few cache entries.
    const cache = options.cache ?? getReceiptsCache();
    const starts: number[] = [];
    for (let start = Math.floor((fromSeq - 1) / CACHE_BLOCK) * CACHE_BLOCK + 1; start <= toSeq; start += CACHE_BLOCK) {
      starts.push(start);
    }
    const blocks = await Promise.all(
      starts.map((start) => {
        const end = Math.min(start + CACHE_BLOCK - 1, conversation.lastSeq);
        return cache.get(`${conversation.id}:${start}:${end}`, () => countReceipts(db, conversation.id, start, end));
      }),
    );
    result.items = blocks.flat().filter((r) => r.seq >= fromSeq && r.seq <= toSeq);
    return result;
  }

  const [counts, positions] = await Promise.all([
    countReceipts(db, conversation.id, fromSeq, toSeq),
    memberPositions(db, conversation.id, toSeq),
  ]);
  const named = new Set<string>();
  result.items = counts.map((message) => {
    const readBy = positions
      .filter((p) => p.userId !== message.senderId && p.joinedSeq < message.seq && p.readSeq >= message.seq)
      .map((p) => p.userId);
    for (const id of readBy) named.add(id);
    return { ...message, readBy };
  });
  result.readers = positions
    .filter((p) => named.has(p.userId))
    .map((p) => ({ id: p.userId, displayName: p.displayName, avatarUrl: p.avatarUrl }));
  if (conversation.kind === "dm") {
    const peer = positions.find((p) => p.userId !== input.userId);
    if (peer) result.peer = { userId: peer.userId, deliveredSeq: peer.deliveredSeq, readSeq: peer.readSeq };
  }
  return result;
}

/**
 * One grouped query: members are first folded into buckets of positions
 * clamped to the window (10,000 members behind or past it collapse into a few
 * buckets), then each message counts the buckets that reach it. The sender's
 * own position is subtracted afterwards.
 */
export async function countReceipts(db: DbOrTx, conversationId: string, fromSeq: number, toSeq: number) {
  const below = fromSeq - 1;
  const rows = await queryRows<{
    seq: number | string;
    sender_id: string | null;
    eligible: number;
    delivered: number;
    read: number;
    sender_joined: number | string | null;
    sender_delivered: number | string | null;
    sender_read: number | string | null;
  }>(
    db,
    sql`with positions as (
          select least(greatest(joined_seq, ${below}::bigint), ${toSeq}::bigint) as j,
                 least(greatest(read_seq, ${below}::bigint), ${toSeq}::bigint) as r,
                 least(greatest(delivered_seq, read_seq, ${below}::bigint), ${toSeq}::bigint) as d,
                 count(*) as n
          from members
          where conversation_id = ${conversationId} and left_at is null and joined_seq < ${toSeq}::bigint
          group by 1, 2, 3
        )
        select msg.seq, msg.sender_id,
               coalesce(sum(p.n) filter (where p.j < msg.seq), 0)::int as eligible,
               coalesce(sum(p.n) filter (where p.j < msg.seq and p.d >= msg.seq), 0)::int as delivered,
               coalesce(sum(p.n) filter (where p.j < msg.seq and p.r >= msg.seq), 0)::int as read,
               s.joined_seq as sender_joined, s.delivered_seq as sender_delivered, s.read_seq as sender_read
        from messages msg
        left join positions p on true
        left join members s on s.conversation_id = msg.conversation_id and s.user_id = msg.sender_id
          and s.left_at is null
        where msg.conversation_id = ${conversationId} and msg.seq between ${fromSeq}::bigint and ${toSeq}::bigint
        group by msg.seq, msg.sender_id, s.joined_seq, s.delivered_seq, s.read_seq
        order by msg.seq`,
  );
  return rows.map((row): Counts => {
    const seq = Number(row.seq);
    let { eligible, delivered, read } = row;
    if (row.sender_joined !== null && Number(row.sender_joined) < seq) {
      eligible -= 1;
      if (Math.max(Number(row.sender_delivered), Number(row.sender_read)) >= seq) delivered -= 1;
      if (Number(row.sender_read) >= seq) read -= 1;
    }
    return { seq, senderId: row.sender_id, recipients: eligible, delivered, read };
  });
}

type Position = {
  userId: string;
  displayName: string;
  avatarUrl: string | null;
  joinedSeq: number;
  readSeq: number;
  deliveredSeq: number;
};

/** Current members' positions; only called for groups up to the detail size. */
async function memberPositions(db: DbOrTx, conversationId: string, toSeq: number): Promise<Position[]> {
  const rows = await queryRows<{
    user_id: string;
    display_name: string;
    avatar_url: string | null;
    joined_seq: number | string;
    read_seq: number | string;
    delivered_seq: number | string;
  }>(
    db,
    sql`select m.user_id, u.display_name, u.avatar_url, m.joined_seq, m.read_seq, m.delivered_seq
        from members m join users u on u.id = m.user_id
        where m.conversation_id = ${conversationId} and m.left_at is null and m.joined_seq < ${toSeq}::bigint
        order by u.display_name, m.user_id`,
  );
  return rows.map((row) => ({
    userId: row.user_id,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    joinedSeq: Number(row.joined_seq),
    readSeq: Number(row.read_seq),
    deliveredSeq: Math.max(Number(row.delivered_seq), Number(row.read_seq)),
  }));
}
