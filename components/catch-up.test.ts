import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import type { WireMessage } from "@/server/realtime/events";
import { fillGap, fillIfBehind } from "./catch-up";
import type { ChatApi } from "./chat-api";
import { chatKeys, getMessages, type MessagesState } from "./chat-store";

const conv = "00000000-0000-4000-8000-0000000000c1";

function msg(seq: number): WireMessage {
  return {
    id: String(5000 + seq),
    conversationId: conv,
    seq,
    senderId: "b0000000-0000-4000-8000-000000000000",
    senderName: "Bob",
    senderAvatarUrl: null,
    clientMsgId: null,
    kind: "text",
    body: `m${seq}`,
    meta: null,
    createdAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
  };
}

/**
 * The conversation's history as the server holds it, with each history call
 * answered only when the test says so: the order of answers and events is the
 * test's to choose.
 */
function server(committed: number) {
  const calls: { afterSeq: number; answer: () => void }[] = [];
  const api = {
    history(_conversationId: string, opts: { afterSeq?: number; limit: number }) {
      const afterSeq = opts.afterSeq ?? 0;
      // What is committed when the request is read, not when it is answered.
      const upTo = committed;
      return new Promise((resolve) => {
        calls.push({
          afterSeq,
          answer: () => {
            const messages: WireMessage[] = [];
            for (let seq = afterSeq + 1; seq <= Math.min(upTo, afterSeq + opts.limit); seq++) messages.push(msg(seq));
            resolve({ messages, hasMore: upTo > afterSeq + opts.limit, changeSeq: 0, removedThroughSeq: 0 });
          },
        });
      });
    },
  } as unknown as ChatApi;
  return {
    api,
    calls,
    commit(seq: number) {
      committed = seq;
    },
  };
}

/** A client with messages 1..loadedThrough loaded, and a server holding 1..committed. */
function client(loadedThrough: number, committed: number) {
  const qc = new QueryClient();
  const items = Array.from({ length: loadedThrough }, (_, i) => msg(i + 1));
  qc.setQueryData<MessagesState>(chatKeys.messages(conv), { items, hasOlder: false, pending: [], changeSeq: 0 });
  const history = server(committed);
  return {
    history,
    fill: () => fillGap(qc, history.api, conv),
    fillIfBehind: (lastSeq: number) => fillIfBehind(qc, history.api, conv, lastSeq),
    asked: () => history.calls.map((c) => c.afterSeq),
    shown: () => getMessages(qc, conv)?.items.map((m) => m.seq),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("fillGap", () => {
  it("a caller that joins a running fill gets a pass that sees the message it was told about", async () => {
    const { history, fill, asked, shown } = client(16, 17);
    // Told about 17 (its event carried only ids): a fill starts and asks for what follows 16.
    const first = fill();
    await settle();
    expect(asked()).toEqual([16]);
    // 18 commits and its event arrives while that request is out: it is a gap too, and joins.
    history.commit(18);
    const joined = fill();
    history.calls[0].answer();
    await settle();
    // The first answer was read before 18 committed; the run goes round again for it.
    expect(asked()).toEqual([16, 17]);
    history.calls[1].answer();
    await Promise.all([first, joined]);
    expect(shown()).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
  });

  it("runs once when nobody joins, and one at a time per conversation", async () => {
    const { history, fill, asked, shown } = client(3, 5);
    const run = fill();
    await settle();
    history.calls[0].answer();
    await run;
    expect(asked()).toEqual([3]);
    expect(shown()).toEqual([1, 2, 3, 4, 5]);
    // A later call is a new run from where the state now ends.
    const again = fill();
    await settle();
    history.calls[1].answer();
    await again;
    expect(asked()).toEqual([3, 5]);
  });
});

describe("fillIfBehind (a heartbeat's last seq for the open conversation)", () => {
  it("fetches the last message whose live event never came, and nothing when the client is up to date", async () => {
    const { history, fillIfBehind, asked, shown } = client(5, 6);
    // The answer says 5: what is loaded. No request.
    expect(await fillIfBehind(5)).toBe(false);
    expect(asked()).toEqual([]);
    // It says 6, and no event for 6 ever came: the client asks for what follows 5.
    const behind = fillIfBehind(6);
    await settle();
    expect(asked()).toEqual([5]);
    history.calls[0].answer();
    expect(await behind).toBe(true);
    expect(shown()).toEqual([1, 2, 3, 4, 5, 6]);
    // The next beat finds it caught up.
    expect(await fillIfBehind(6)).toBe(false);
    expect(asked()).toEqual([5]);
  });

  it("does nothing for a conversation whose messages were never loaded", async () => {
    const qc = new QueryClient();
    const history = server(3);
    expect(await fillIfBehind(qc, history.api, conv, 3)).toBe(false);
    expect(history.calls).toHaveLength(0);
  });
});
