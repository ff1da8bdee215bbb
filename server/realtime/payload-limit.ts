import {
  MAX_EVENT_BYTES,
  type MessageUpdate,
  type RealtimeEventName,
  type RealtimeEvents,
  type WireMessage,
} from "./events";

export const payloadBytes = (payload: unknown) => Buffer.byteLength(JSON.stringify(payload), "utf8");

/**
 * The payload as it may be published: a message.new over Pusher's limit
 * (4000 three-byte characters are 12 KB) becomes ids only and clients fetch
 * it with message.history. Other events are small by construction; one that
 * is not is a bug, reported loudly rather than silently cut.
 */
export function fitEventPayload<E extends RealtimeEventName>(event: E, payload: RealtimeEvents[E]): RealtimeEvents[E] {
  if (payloadBytes(payload) <= MAX_EVENT_BYTES) return payload;
  if (event === "message.new") {
    const message = payload as WireMessage;
    return { id: message.id, conversationId: message.conversationId, seq: message.seq, ref: true } as RealtimeEvents[E];
  }
  if (event === "message.updated") {
    const update = payload as MessageUpdate;
    return {
      conversationId: update.conversationId,
      seq: update.seq,
      changeSeq: update.changeSeq,
      ref: true,
    } as RealtimeEvents[E];
  }
  throw new Error(`${event} payload is ${payloadBytes(payload)} bytes, over the ${MAX_EVENT_BYTES}-byte event limit`);
}
