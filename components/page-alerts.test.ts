import { describe, expect, it } from "vitest";
import type { WireMessage } from "@/server/realtime/events";
import type { ConversationItem } from "./chat-store";
import { alertFor, shouldAlert } from "./page-alerts";

const bob = { id: "b0b00000-0000-4000-8000-000000000000", username: "bob" };
const alice = "a11ce000-0000-4000-8000-000000000000";

function message(body: string, overrides: Partial<WireMessage> = {}): WireMessage {
  return {
    id: "1",
    conversationId: "c0000000-0000-4000-8000-000000000000",
    seq: 4,
    senderId: alice,
    senderName: "Alice",
    senderAvatarUrl: null,
    clientMsgId: "x",
    kind: "text",
    body,
    meta: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

function conversation(kind: "dm" | "group", level: "all" | "mentions" | "none", snoozeUntil: string | null = null) {
  return {
    id: "c0000000-0000-4000-8000-000000000000",
    kind,
    title: kind === "group" ? "Launch" : "Alice",
    unread: 3,
    notifications: { level, levelSet: null, snoozeUntil, muted: level === "none" },
  } as ConversationItem;
}

describe("alerts a hidden tab shows", () => {
  it("follows the level: all alerts, none never, mentions only for a mention, @all or a DM", () => {
    expect(shouldAlert(message("hi"), conversation("group", "all"), bob)).toBe(true);
    expect(shouldAlert(message("hi"), conversation("group", "none"), bob)).toBe(false);
    expect(shouldAlert(message("hi"), conversation("group", "mentions"), bob)).toBe(false);
    expect(shouldAlert(message("ping @Bob"), conversation("group", "mentions"), bob)).toBe(true);
    expect(shouldAlert(message("@all standup"), conversation("group", "mentions"), bob)).toBe(true);
    expect(shouldAlert(message("mail bob@example.com"), conversation("group", "mentions"), bob)).toBe(false);
    expect(shouldAlert(message("hi"), conversation("dm", "mentions"), bob)).toBe(true);
  });

  it("stays quiet while snoozed, for bob's own messages, for system messages and unknown conversations", () => {
    const later = new Date(Date.now() + 60_000).toISOString();
    const earlier = new Date(Date.now() - 60_000).toISOString();
    expect(shouldAlert(message("hi"), conversation("dm", "all", later), bob)).toBe(false);
    expect(shouldAlert(message("hi"), conversation("dm", "all", earlier), bob)).toBe(true);
    expect(shouldAlert(message("hi", { senderId: bob.id }), conversation("dm", "all"), bob)).toBe(false);
    expect(shouldAlert(message("renamed", { kind: "system" }), conversation("group", "all"), bob)).toBe(false);
    expect(shouldAlert(message("hi"), undefined, bob)).toBe(false);
  });

  it("says who and where, with the text only when previews are on, counting unread", () => {
    expect(alertFor(message("ship it"), conversation("group", "all"), true)).toMatchObject({
      title: "Launch",
      body: "3 new messages, the latest from Alice\nship it",
      tag: "chorus-conversation-c0000000-0000-4000-8000-000000000000",
      url: "/c/c0000000-0000-4000-8000-000000000000",
    });
    const hidden = alertFor(message("the code is 4711"), { ...conversation("dm", "all"), unread: 1 }, false);
    expect(hidden).toMatchObject({ title: "Alice", body: "New message from Alice" });
    expect(JSON.stringify(hidden)).not.toContain("4711");
  });
});
