"use client";

export type AckSender = {
  markDelivered(items: { conversationId: string; seq: number }[]): Promise<unknown>;
  markRead(conversationId: string, seq: number): Promise<unknown>;
};

/**
 * Collects delivered/read positions and sends them at most every `intervalMs`
 * (and on flush: leaving a conversation, hiding the page), keeping only the
 * highest seq per conversation: one request per batch, never per message.
 */
export class AckQueue {
  private delivered = new Map<string, number>();
  private read = new Map<string, number>();
  private sentDelivered = new Map<string, number>();
  private sentRead = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly sender: AckSender,
    private readonly intervalMs = 2500,
    private readonly onError: (e: unknown) => void = (e) => console.warn("acknowledgement failed", e),
  ) {}

  markDelivered(conversationId: string, seq: number) {
    if (seq <= (this.sentDelivered.get(conversationId) ?? 0)) return;
    if (seq > (this.delivered.get(conversationId) ?? 0)) this.delivered.set(conversationId, seq);
    this.schedule();
  }

  markRead(conversationId: string, seq: number) {
    if (seq <= (this.sentRead.get(conversationId) ?? 0)) return;
    if (seq > (this.read.get(conversationId) ?? 0)) this.read.set(conversationId, seq);
    this.schedule();
  }

  private schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.intervalMs);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const delivered = [...this.delivered].map(([conversationId, seq]) => ({ conversationId, seq }));
    const read = [...this.read];
    this.delivered.clear();
    this.read.clear();
    const calls: Promise<unknown>[] = [];
    if (delivered.length > 0) {
      for (const d of delivered) this.sentDelivered.set(d.conversationId, d.seq);
      calls.push(this.sender.markDelivered(delivered));
    }
    for (const [conversationId, seq] of read) {
      this.sentRead.set(conversationId, seq);
      calls.push(this.sender.markRead(conversationId, seq));
    }
    const results = await Promise.allSettled(calls);
    for (const r of results) if (r.status === "rejected") this.onError(r.reason);
  }

  dispose() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
