import { describe, expect, it } from "vitest";
import type { WireMessage } from "@/server/realtime/events";
import { insertMention, mentionAtCaret } from "./mention-autocomplete";
import { buildRows, estimateRow, lastEditable, lastSeqOf } from "./message-rows";

const alice = "a0000000-0000-4000-8000-000000000000";
const bob = "b0000000-0000-4000-8000-000000000000";

function msg(seq: number, senderId: string | null, minutes: number, extra: Partial<WireMessage> = {}): WireMessage {
  return {
    id: String(1000 + seq),
    conversationId: "c",
    seq,
    senderId,
    senderName: senderId === alice ? "Alice" : "Bob",
    senderAvatarUrl: null,
    clientMsgId: null,
    kind: senderId ? "text" : "system",
    body: `m${seq}`,
    meta: null,
    createdAt: new Date(Date.UTC(2026, 0, 5, 9, minutes)).toISOString(),
    ...extra,
  };
}

const state = (items: WireMessage[]) => ({ items, hasOlder: false, pending: [] });

describe("the message list's rows", () => {
  it("groups a run of one sender's messages and starts a new run for another sender or a reply", () => {
    const rows = buildRows(
      state([
        msg(1, bob, 0),
        msg(2, bob, 1),
        msg(3, alice, 2),
        msg(4, alice, 3, { replyTo: { seq: 1, senderName: "Bob", preview: "m1", deleted: false } }),
      ]),
      alice,
      null,
      false,
    );
    const messages = rows.filter((r) => r.type === "message");
    expect(messages.map((r) => [r.m.seq, r.own, r.runStart])).toEqual([
      [1, false, true],
      [2, false, false],
      [3, true, true],
      [4, true, true],
    ]);
    expect(rows[0]).toMatchObject({ type: "day" });
    expect(lastSeqOf(rows)).toBe(4);
  });

  it("puts the unread divider before the first unread message and an 'older' row while there is more", () => {
    const rows = buildRows({ ...state([msg(1, bob, 0), msg(2, bob, 1)]), hasOlder: true }, alice, 2, false);
    expect(rows.map((r) => r.type)).toEqual(["older", "day", "message", "unread", "message"]);
  });

  it("makes room for a reply quote and reactions in its first guess of a row's height", () => {
    const plain = buildRows(state([msg(1, bob, 0)]), alice, null, false).at(-1);
    const rich = buildRows(
      state([
        msg(1, bob, 0, {
          replyTo: { seq: 0, senderName: null, preview: null, deleted: true },
          reactions: [{ emoji: "👍", count: 1, me: false }],
        }),
      ]),
      alice,
      null,
      false,
    ).at(-1);
    expect(estimateRow(rich)).toBeGreaterThan(estimateRow(plain));
  });

  it("edits alice's newest text message with Up arrow, skipping deleted ones and other people's", () => {
    const items = [
      msg(1, alice, 0),
      msg(2, alice, 1, { deletedAt: "2026-01-05T09:05:00.000Z" }),
      msg(3, bob, 2),
      msg(4, null, 3),
    ];
    expect(lastEditable(items, alice)?.seq).toBe(1);
    expect(lastEditable(items.slice(2), alice)).toBeNull();
  });
});

describe("mention autocomplete in the composer", () => {
  it("finds the @word being typed at the caret, and not an e-mail address", () => {
    expect(mentionAtCaret("hi @bo", 6)).toEqual({ start: 3, query: "bo" });
    expect(mentionAtCaret("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAtCaret("mail bob@exa", 12)).toBeNull();
    expect(mentionAtCaret("hi @bob and more", 16)).toBeNull();
  });

  it("replaces what was typed by the picked username and a space", () => {
    const text = "thanks @bo, see you";
    expect(insertMention(text, 10, { start: 7 }, "bob_smith")).toEqual({
      text: "thanks @bob_smith , see you",
      caret: 18,
    });
  });
});
