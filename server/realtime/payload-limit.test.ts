import { describe, expect, it } from "vitest";
import { MAX_EVENT_BYTES, type WireMessage } from "./events";
import { fitEventPayload, payloadBytes } from "./payload-limit";

const message = (body: string): WireMessage => ({
  id: "250618554070597632",
  conversationId: "0b6a3c9e-5f7d-4c1e-9a57-3a1c2f0d9e11",
  seq: 7,
  senderId: null,
  senderName: "Alice",
  senderAvatarUrl: null,
  clientMsgId: "c1",
  kind: "text",
  body,
  meta: null,
  createdAt: new Date(0).toISOString(),
});

describe("Pusher's event size limit", () => {
  it("publishes a message that fits as is", () => {
    const fits = message("a".repeat(4000));
    expect(fitEventPayload("message.new", fits)).toBe(fits);
  });

  it("counts bytes, not characters: 4000 three-byte characters become ids only", () => {
    const big = message("€".repeat(4000));
    expect(payloadBytes(big)).toBeGreaterThan(MAX_EVENT_BYTES);
    const fitted = fitEventPayload("message.new", big);
    expect(fitted).toEqual({ id: big.id, conversationId: big.conversationId, seq: 7, ref: true });
    expect(payloadBytes(fitted)).toBeLessThan(200);
  });

  it("turns an edit with a body too large for Pusher into a hint that message.changes fills", () => {
    const update = {
      conversationId: "0b6a3c9e-5f7d-4c1e-9a57-3a1c2f0d9e11",
      seq: 7,
      changeSeq: 3,
      body: "€".repeat(4000),
      editedAt: new Date(0).toISOString(),
      deletedAt: null,
      reactions: [],
      reaction: null,
    };
    expect(fitEventPayload("message.updated", update)).toEqual({
      conversationId: update.conversationId,
      seq: 7,
      changeSeq: 3,
      ref: true,
    });
    const small = { ...update, body: "typo fixed" };
    expect(fitEventPayload("message.updated", small)).toBe(small);
  });

  it("refuses loudly any other event that is too large, rather than cutting it", () => {
    expect(() => fitEventPayload("typing", { userId: "u", name: "x".repeat(MAX_EVENT_BYTES), typing: true })).toThrow(
      /over the 10000-byte event limit/,
    );
  });
});
