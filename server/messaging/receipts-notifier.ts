import { env } from "../env";
import { logger } from "../logger";
import { conversationChannel } from "../realtime/channels";
import type { Publisher } from "../realtime/publisher";

const log = logger.child({ domain: "receipts" });

export type ReceiptsNotifierOptions = {
  /** Coalescing window per conversation. */
  windowMs?: number;
  /** Groups above this size get counts only, cached; they are told no more often than the cache refreshes. */
  detailMaxMembers?: number;
  largeGroupWindowMs?: number;
};

export interface ReceiptsNotifier {
  /**
   * Someone's delivered or read position in a conversation moved up to `seq`.
   * The event goes out through the caller's publisher (a trailing one through the latest caller's).
   */
  changed(conversationId: string, seq: number, memberCount: number, publisher: Publisher): void;
  /** Publishes everything pending now and waits for it (shutdown, tests). */
  flush(): Promise<void>;
  /** receipts.changed events published so far. */
  readonly published: number;
}

type Slot = { pending: number | null; timer: NodeJS.Timeout; windowMs: number; publisher: Publisher };

/**
 * Throttles `receipts.changed` per conversation: the first change is published
 * at once (a DM's tick turns blue without delay), later ones within the window
 * are coalesced into one trailing event carrying the highest seq. A burst of
 * 10,000 readers makes two events, not 10,000. In-process: with several app
 * instances each throttles its own readers, which still bounds the rate.
 */
export function createReceiptsNotifier(options: ReceiptsNotifierOptions = {}): ReceiptsNotifier {
  const windowMs = options.windowMs ?? env.RECEIPTS_EVENT_DEBOUNCE_MS;
  const detailMaxMembers = options.detailMaxMembers ?? env.RECEIPTS_DETAIL_MAX_MEMBERS;
  const largeGroupWindowMs = Math.max(options.largeGroupWindowMs ?? env.RECEIPTS_CACHE_SECONDS * 1000, windowMs);
  const slots = new Map<string, Slot>();
  const inFlight = new Set<Promise<void>>();
  let published = 0;

  function publish(publisher: Publisher, conversationId: string, upToSeq: number) {
    published += 1;
    const sending = publisher
      .publish(conversationChannel(conversationId), "receipts.changed", { conversationId, upToSeq })
      .catch((error: unknown) => {
        // A lost hint costs freshness only: clients refetch receipts on their next open or reconnect.
        log.warn({ err: error, conversationId }, "receipts.changed publish failed");
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  }

  function close(conversationId: string) {
    const slot = slots.get(conversationId);
    if (!slot) return;
    if (slot.pending === null) {
      slots.delete(conversationId);
      return;
    }
    publish(slot.publisher, conversationId, slot.pending);
    slot.pending = null;
    slot.timer = schedule(conversationId, slot.windowMs);
  }

  function schedule(conversationId: string, ms: number) {
    const timer = setTimeout(() => close(conversationId), ms);
    timer.unref();
    return timer;
  }

  return {
    changed(conversationId, seq, memberCount, publisher) {
      const slot = slots.get(conversationId);
      if (slot) {
        slot.pending = Math.max(slot.pending ?? 0, seq);
        slot.publisher = publisher;
        return;
      }
      const ms = memberCount > detailMaxMembers ? largeGroupWindowMs : windowMs;
      publish(publisher, conversationId, seq);
      slots.set(conversationId, { pending: null, timer: schedule(conversationId, ms), windowMs: ms, publisher });
    },
    async flush() {
      for (const [conversationId, slot] of slots) {
        clearTimeout(slot.timer);
        slots.delete(conversationId);
        if (slot.pending !== null) publish(slot.publisher, conversationId, slot.pending);
      }
      await Promise.all([...inFlight]);
    },
    get published() {
      return published;
    },
  };
}

const globalForReceipts = globalThis as unknown as { chorusReceiptsNotifier?: ReceiptsNotifier };

/** The process-wide notifier: its coalescing windows span every request of the process. */
export function getReceiptsNotifier(): ReceiptsNotifier {
  globalForReceipts.chorusReceiptsNotifier ??= createReceiptsNotifier();
  return globalForReceipts.chorusReceiptsNotifier;
}
