import { QueryClient } from "@tanstack/react-query";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { MessageUpdate, WireMessage } from "@/server/realtime/events";
import { AckQueue } from "./ack-queue";
import {
  addMessages,
  applyMessageToList,
  applyReadToList,
  applyUpdate,
  chatKeys,
  type ConversationItem,
  type MessagesState,
  mentionsUser,
  mergeMessages,
  replaceMessages,
  setPending,
  sortConversations,
  toggleReactionLocally,
} from "./chat-store";
import { MessageText } from "./message-text";

const conv = "00000000-0000-4000-8000-000000000001";
const alice = { id: "a0000000-0000-4000-8000-000000000000", username: "alice" };
const bob = "b0000000-0000-4000-8000-000000000000";

function msg(seq: number, senderId: string | null = bob, body = `m${seq}`): WireMessage {
  return {
    id: String(1000 + seq),
    conversationId: conv,
    seq,
    senderId,
    senderName: senderId === alice.id ? "Alice" : "Bob",
    senderAvatarUrl: null,
    clientMsgId: senderId === alice.id ? `c${seq}` : null,
    kind: "text",
    body,
    meta: null,
    createdAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
  };
}

function item(overrides: Partial<ConversationItem> = {}): ConversationItem {
  return {
    id: conv,
    kind: "dm",
    title: "Bob",
    avatarUrl: null,
    peerId: bob,
    peerUsername: "bob",
    lastSeq: 3,
    lastMessageAt: new Date(1_700_000_003_000).toISOString(),
    preview: "m3",
    previewSenderId: bob,
    previewSenderName: "Bob",
    unread: 1,
    mentions: 0,
    muted: false,
    notifications: { level: "all", levelSet: null, snoozeUntil: null, muted: false },
    memberCount: 2,
    readSeq: 2,
    ...overrides,
  };
}

describe("messages in the client cache", () => {
  it("shows every message once and in seq order, whatever order or how often events arrive", () => {
    const merged = mergeMessages([msg(1), msg(3)], [msg(3), msg(2), msg(5), msg(4), msg(2)]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps the same array when nothing new arrives, so nothing re-renders", () => {
    const existing = [msg(1), msg(2)];
    expect(mergeMessages(existing, [msg(2)])).toBe(existing);
  });

  it("retires alice's pending copy when her confirmed message arrives", () => {
    const qc = new QueryClient();
    qc.setQueryData<MessagesState>(chatKeys.messages(conv), {
      items: [msg(1)],
      hasOlder: false,
      pending: [],
      changeSeq: 0,
    });
    setPending(qc, conv, { clientMsgId: "c2", body: "m2", createdAt: "", status: "pending", error: null });
    setPending(qc, conv, { clientMsgId: "c9", body: "later", createdAt: "", status: "failed", error: "x" });
    addMessages(qc, conv, [msg(2, alice.id)]);
    const state = qc.getQueryData<MessagesState>(chatKeys.messages(conv));
    expect(state?.items.map((m) => m.seq)).toEqual([1, 2]);
    expect(state?.pending.map((p) => p.clientMsgId)).toEqual(["c9"]);
  });
});

describe("changes to old messages in the client cache", () => {
  const update = (seq: number, extra: Partial<MessageUpdate> = {}): MessageUpdate => ({
    conversationId: conv,
    seq,
    changeSeq: 1,
    body: `m${seq}`,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    reaction: null,
    ...extra,
  });

  it("shows bob's edit and keeps alice's own reaction flags while bob reacts", () => {
    const mine: WireMessage = { ...msg(2), reactions: [{ emoji: "👍", count: 1, me: true }] };
    const items = [msg(1), mine];
    const edited = applyUpdate(
      items,
      update(2, {
        body: "m2, fixed",
        editedAt: "2026-01-01T00:00:00.000Z",
        reactions: [
          { emoji: "👍", count: 2 },
          { emoji: "🎉", count: 1 },
        ],
        reaction: { userId: bob, emoji: "👍", on: true },
      }),
      alice.id,
    );
    expect(edited[0]).toBe(items[0]);
    expect(edited[1]).toMatchObject({
      body: "m2, fixed",
      editedAt: "2026-01-01T00:00:00.000Z",
      reactions: [
        { emoji: "👍", count: 2, me: true },
        { emoji: "🎉", count: 1, me: false },
      ],
    });
  });

  it("flags alice's reaction from her other device, and clears it when she takes it back", () => {
    const on = applyUpdate(
      [msg(3)],
      update(3, { reactions: [{ emoji: "🔥", count: 1 }], reaction: { userId: alice.id, emoji: "🔥", on: true } }),
      alice.id,
    );
    expect(on[0]?.reactions).toEqual([{ emoji: "🔥", count: 1, me: true }]);
    const off = applyUpdate(
      on,
      update(3, { reactions: [], reaction: { userId: alice.id, emoji: "🔥", on: false } }),
      alice.id,
    );
    expect(off[0]?.reactions).toEqual([]);
  });

  it("turns a deleted message into a tombstone and ignores updates to messages not loaded", () => {
    const items = [msg(1)];
    expect(applyUpdate(items, update(9), alice.id)).toBe(items);
    const gone = applyUpdate(items, update(1, { body: "", deletedAt: "2026-01-01T00:00:00.000Z" }), alice.id);
    expect(gone[0]).toMatchObject({ body: "", deletedAt: "2026-01-01T00:00:00.000Z", reactions: [] });
  });

  it("replaces loaded messages with their caught-up state and adds none that were not loaded", () => {
    const items = [msg(1), msg(2)];
    const caught = replaceMessages(items, [{ ...msg(2), body: "new" }, msg(40)]);
    expect(caught.map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [2, "new"],
    ]);
    expect(replaceMessages(items, [])).toBe(items);
  });

  it("keeps the quotes of loaded replies in step when their original is edited or deleted", () => {
    const original = msg(1, bob, "m1");
    const reply: WireMessage = {
      ...msg(2, alice.id, "agreed"),
      replyTo: { seq: 1, senderName: "Bob", preview: "m1", deleted: false },
    };
    const edited = applyUpdate([original, reply], update(1, { body: "m1, reworded", editedAt: "x" }), alice.id);
    expect(edited[1]?.replyTo).toEqual({ seq: 1, senderName: "Bob", preview: "m1, reworded", deleted: false });
    const caughtUp = replaceMessages(edited, [{ ...original, body: "", deletedAt: "y" }]);
    expect(caughtUp[1]?.replyTo).toEqual({ seq: 1, senderName: null, preview: null, deleted: true });
  });

  it("shows alice's reaction at once and takes it back at once", () => {
    const on = toggleReactionLocally([msg(1)], 1, "👍", true);
    expect(on[0]?.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    expect(toggleReactionLocally(on, 1, "👍", true)[0]?.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    expect(toggleReactionLocally(on, 1, "👍", false)[0]?.reactions).toEqual([]);
  });
});

describe("the conversation list kept live by events", () => {
  it("counts a message from bob as unread and moves the preview", () => {
    const qc = new QueryClient();
    qc.setQueryData(chatKeys.conversations(), [item()]);
    expect(applyMessageToList(qc, msg(4), alice)).toBe(true);
    const [c] = qc.getQueryData<ConversationItem[]>(chatKeys.conversations()) ?? [];
    expect(c).toMatchObject({ lastSeq: 4, unread: 2, preview: "m4", previewSenderId: bob });
  });

  it("ignores a duplicate or older event", () => {
    const qc = new QueryClient();
    qc.setQueryData(chatKeys.conversations(), [item()]);
    applyMessageToList(qc, msg(3), alice);
    applyMessageToList(qc, msg(2), alice);
    expect(qc.getQueryData<ConversationItem[]>(chatKeys.conversations())?.[0]).toEqual(item());
  });

  it("clears the badge when alice sends, since sending reads", () => {
    const qc = new QueryClient();
    qc.setQueryData(chatKeys.conversations(), [item({ unread: 3, readSeq: 0 })]);
    applyMessageToList(qc, msg(4, alice.id), alice);
    expect(qc.getQueryData<ConversationItem[]>(chatKeys.conversations())?.[0]).toMatchObject({ unread: 0, readSeq: 4 });
  });

  it("marks a mention of alice or @all, not of someone else", () => {
    const qc = new QueryClient();
    qc.setQueryData(chatKeys.conversations(), [item()]);
    applyMessageToList(qc, msg(4, bob, "hey @alice look"), alice);
    applyMessageToList(qc, msg(5, bob, "ping @alicia"), alice);
    applyMessageToList(qc, msg(6, bob, "@all standup"), alice);
    expect(qc.getQueryData<ConversationItem[]>(chatKeys.conversations())?.[0].mentions).toBe(2);
    expect(mentionsUser("mail alice@example.com", "alice")).toBe(false);
    expect(mentionsUser("(@Alice)", "alice")).toBe(true);
  });

  it("moves the read position forward only", () => {
    const qc = new QueryClient();
    qc.setQueryData(chatKeys.conversations(), [item({ lastSeq: 10, readSeq: 5, unread: 5, mentions: 1 })]);
    applyReadToList(qc, conv, 8);
    applyReadToList(qc, conv, 6);
    expect(qc.getQueryData<ConversationItem[]>(chatKeys.conversations())?.[0]).toMatchObject({ readSeq: 8, unread: 2 });
    applyReadToList(qc, conv, 10);
    expect(qc.getQueryData<ConversationItem[]>(chatKeys.conversations())?.[0]).toMatchObject({
      unread: 0,
      mentions: 0,
    });
  });

  it("sorts by the latest message, quiet conversations last", () => {
    const quiet = item({ id: "q", title: "Quiet", lastMessageAt: null });
    const old = item({ id: "o", title: "Old", lastMessageAt: "2024-01-01T00:00:00.000Z" });
    const fresh = item({ id: "f", title: "Fresh", lastMessageAt: "2025-01-01T00:00:00.000Z" });
    expect(sortConversations([quiet, old, fresh]).map((c) => c.id)).toEqual(["f", "o", "q"]);
  });
});

describe("acknowledgements", () => {
  function recorder() {
    const calls: string[] = [];
    const queue = new AckQueue(
      {
        markDelivered: async (items) =>
          calls.push(`delivered ${items.map((i) => `${i.conversationId}:${i.seq}`).join(",")}`),
        markRead: async (c, seq) => calls.push(`read ${c}:${seq}`),
      },
      60_000,
    );
    return { calls, queue };
  }

  it("sends one batch with the highest position per conversation, not one request per message", async () => {
    const { calls, queue } = recorder();
    for (let seq = 1; seq <= 50; seq++) queue.markDelivered("c1", seq);
    queue.markDelivered("c2", 7);
    queue.markRead("c1", 30);
    queue.markRead("c1", 20);
    await queue.flush();
    expect(calls).toEqual(["delivered c1:50,c2:7", "read c1:30"]);
    queue.dispose();
  });

  it("does not send a position it already sent", async () => {
    const { calls, queue } = recorder();
    queue.markRead("c1", 5);
    await queue.flush();
    queue.markRead("c1", 5);
    queue.markRead("c1", 3);
    await queue.flush();
    expect(calls).toEqual(["read c1:5"]);
    queue.dispose();
  });
});

describe("message text", () => {
  const render = (body: string) => renderToStaticMarkup(createElement(MessageText, { body }));

  it("shows HTML and scripts literally", () => {
    const html = render(`<img src=x onerror="alert(1)"><script>alert(2)</script>`);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;");
  });

  it("highlights @mentions as text, not inside e-mail addresses", () => {
    const html = render("ping @bob_1. and write to carol@example.com or @<b>x</b>");
    expect(html).toContain('<span class="mention" data-testid="mention">@bob_1</span>.');
    expect(html).toContain("carol@example.com");
    expect(html.match(/class="mention"/g)?.length).toBe(1);
    expect(html).toContain("&lt;b&gt;");
  });

  it("links http(s) URLs safely and leaves other schemes as text", () => {
    const html = render("see https://example.com/a?b=1, or javascript:alert(1) or data:text/html,x");
    expect(html).toContain('href="https://example.com/a?b=1"');
    expect(html).toContain('rel="noopener noreferrer nofollow ugc"');
    expect(html.match(/<a /g)?.length).toBe(1);
    expect(html).toContain("javascript:alert(1)");
  });
});
