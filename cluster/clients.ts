// Clients of a scaled-out Chorus as a browser is one: tRPC over HTTP with a
// session cookie, and pusher-js on a Soketi node that keeps every message
// exactly once and in seq order (drop duplicates by seq, fill gaps from history).
import Pusher from "pusher-js";
import superjson from "superjson";
import { authOptions, httpBatchAuthorizer, httpUserAuthenticator } from "@/lib/realtime-client";
import { conversationChannel } from "@/server/realtime/channels";

export async function sessionCookie(authSecret: string, user: { id: string; username: string }): Promise<string> {
  const { encode } = await import("next-auth/jwt");
  const token = await encode({ token: { sub: user.id, name: user.username }, secret: authSecret });
  return `next-auth.session-token=${token}`;
}

export type CallResult<T> =
  | { ok: true; data: T; ms: number }
  | { ok: false; status: number; code: string; message: string; ms: number };

export class Api {
  constructor(
    readonly baseUrl: string,
    readonly cookie: string,
  ) {}

  async call<T>(kind: "query" | "mutation", path: string, input?: unknown, timeoutMs = 15_000): Promise<CallResult<T>> {
    const started = performance.now();
    const serialized = JSON.stringify(superjson.serialize(input));
    const request = () =>
      kind === "query"
        ? fetch(`${this.baseUrl}/api/trpc/${path}?input=${encodeURIComponent(serialized)}`, {
            headers: { cookie: this.cookie },
            signal: AbortSignal.timeout(timeoutMs),
          })
        : fetch(`${this.baseUrl}/api/trpc/${path}`, {
            method: "POST",
            headers: { cookie: this.cookie, "content-type": "application/json" },
            body: serialized,
            signal: AbortSignal.timeout(timeoutMs),
          });
    let response: Response;
    try {
      response = await request();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      // undici may reuse a keep-alive socket the server just closed: one retry (sends are idempotent by clientMsgId).
      if (cause?.code !== "ECONNRESET" && cause?.code !== "UND_ERR_SOCKET") {
        return { ok: false, status: 0, code: "NETWORK", message: String(error), ms: performance.now() - started };
      }
      try {
        response = await request();
      } catch (again) {
        return { ok: false, status: 0, code: "NETWORK", message: String(again), ms: performance.now() - started };
      }
    }
    const text = await response.text();
    const ms = performance.now() - started;
    let body: {
      result?: { data: { json: unknown; meta?: unknown } };
      error?: { json: { message: string; data?: { code?: string } } };
    };
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, status: response.status, code: "NOT_JSON", message: text.slice(0, 200), ms };
    }
    if (body.result) {
      return { ok: true, data: superjson.deserialize(body.result.data as never) as T, ms };
    }
    return {
      ok: false,
      status: response.status,
      code: body.error?.json.data?.code ?? "UNKNOWN",
      message: body.error?.json.message ?? text.slice(0, 200),
      ms,
    };
  }

  async must<T>(kind: "query" | "mutation", path: string, input?: unknown): Promise<T> {
    const result = await this.call<T>(kind, path, input);
    if (!result.ok) throw new Error(`${path} failed: ${result.status} ${result.code} ${result.message}`);
    return result.data;
  }
}

type HistoryPage = { messages: { seq: number; body: string }[]; hasMore: boolean };

/**
 * A member's pusher-js client on one Soketi node, authorized through one app
 * instance. `shown` is what the UI would show: each seq once, in order.
 */
export class MemberClient {
  readonly pusher: Pusher;
  /** Every message.new event as it arrived (duplicates included). */
  readonly raw: number[] = [];
  readonly shown = new Map<number, string>();
  /** upToSeq of every receipts.changed hint received. */
  readonly receiptHints: number[] = [];
  private filling: Promise<void> | null = null;

  constructor(
    readonly name: string,
    readonly api: Api,
    soketiPort: number,
    key: string,
    readonly conversationId: string,
  ) {
    const headers = () => ({ cookie: api.cookie });
    this.pusher = new Pusher(key, {
      cluster: "",
      wsHost: "127.0.0.1",
      wsPort: soketiPort,
      forceTLS: false,
      enabledTransports: ["ws"],
      disableStats: true,
      activityTimeout: 2_000,
      pongTimeout: 2_000,
      ...authOptions(
        httpBatchAuthorizer(`${api.baseUrl}/api/pusher/auth`, headers),
        httpUserAuthenticator(`${api.baseUrl}/api/pusher/user-auth`, headers),
      ),
    });
    this.pusher.signin();
    const channel = this.pusher.subscribe(conversationChannel(conversationId));
    channel.bind("message.new", (m: { seq: number; body?: string }) => {
      this.raw.push(m.seq);
      if (m.body !== undefined) this.shown.set(m.seq, m.body);
      // A seq beyond the next expected one means something was missed: fill it from history.
      if (m.seq > this.contiguous() + 1) void this.fillGaps();
    });
    channel.bind("receipts.changed", (hint: { upToSeq: number }) => this.receiptHints.push(hint.upToSeq));
    // Every (re)subscription catches up from history, as the browser does after a reconnect.
    channel.bind("pusher:subscription_succeeded", () => void this.fillGaps());
  }

  get connected() {
    return this.pusher.connection.state === "connected";
  }

  /** The highest seq up to which nothing is missing. */
  contiguous(): number {
    let s = 0;
    while (this.shown.has(s + 1)) s++;
    return s;
  }

  fillGaps(): Promise<void> {
    this.filling ??= (async () => {
      try {
        for (let guard = 0; guard < 1_000; guard++) {
          const page = await this.api.call<HistoryPage>("query", "message.history", {
            conversationId: this.conversationId,
            afterSeq: this.contiguous(),
            limit: 100,
          });
          if (!page.ok) return;
          for (const m of page.data.messages) this.shown.set(m.seq, m.body);
          // Done when history has no more and no message that arrived meanwhile left a new gap.
          if (!page.data.hasMore && this.maxSeen() <= this.contiguous()) return;
        }
      } finally {
        this.filling = null;
      }
    })();
    return this.filling;
  }

  /**
   * A heartbeat naming the open conversation, as the browser sends one every 45 s: when its
   * answer's last seq is beyond what is shown, a live event was lost with no later message to
   * reveal the gap, and history fills it.
   */
  async beat(): Promise<void> {
    const answer = await this.api.call<{ openLastSeq: number | null }>("mutation", "presence.heartbeat", {
      away: false,
      open: this.conversationId,
    });
    if (!answer.ok) throw new Error(`${this.name}'s heartbeat failed: ${answer.code} ${answer.message}`);
    const { openLastSeq } = answer.data;
    if (openLastSeq !== null && openLastSeq > this.contiguous()) await this.fillGaps();
  }

  maxSeen(): number {
    let max = 0;
    for (const seq of this.shown.keys()) if (seq > max) max = seq;
    return max;
  }

  /** What the UI shows, in display order. */
  list(): number[] {
    return [...this.shown.keys()].sort((a, b) => a - b);
  }

  disconnect() {
    this.pusher.disconnect();
  }
}

/** Duplicates, gaps and order of a shown list against offset+1..offset+expected (seqs up to offset came before the test). */
export function audit(shownSeqs: number[], offset: number, expected: number) {
  const seqs = shownSeqs.filter((s) => s > offset);
  const seen = new Set<number>();
  let duplicates = 0;
  for (const s of seqs) {
    if (seen.has(s)) duplicates++;
    seen.add(s);
  }
  let gaps = 0;
  for (let s = offset + 1; s <= offset + expected; s++) if (!seen.has(s)) gaps++;
  const inOrder = seqs.every((s, i) => i === 0 || seqs[i - 1] < s);
  return { duplicates, gaps, inOrder, extra: [...seen].filter((s) => s > offset + expected).length };
}

export function rawDuplicates(raw: number[]): number {
  return raw.length - new Set(raw).size;
}
