import { describe, expect, it } from "vitest";
import { conversationChannel } from "../realtime/channels";
import type { Publisher } from "../realtime/publisher";
import { createRecordingPublisher } from "../testing/recording-publisher";
import { createReceiptsNotifier } from "./receipts-notifier";

const conversationId = "6a0d1c52-9a34-4b8e-a1f0-3f1e2b9c7d10";

/** A request's publisher that keeps what it was asked to publish. */
function requestPublisher() {
  const sent: { channel: string; event: string; payload: unknown }[] = [];
  const publisher: Publisher = {
    ...createRecordingPublisher(),
    async publish(channels, event, payload) {
      for (const channel of Array.isArray(channels) ? channels : [channels]) sent.push({ channel, event, payload });
    },
  };
  return { publisher, sent };
}

describe("the receipts notifier", () => {
  it("publishes through the caller's publisher: the leading event through the first caller's, the trailing one through the latest caller's", async () => {
    const first = requestPublisher();
    const latest = requestPublisher();
    const notifier = createReceiptsNotifier({ windowMs: 60_000, detailMaxMembers: 100 });

    notifier.changed(conversationId, 1, 3, first.publisher);
    notifier.changed(conversationId, 3, 3, first.publisher);
    notifier.changed(conversationId, 2, 3, latest.publisher);
    // flush() plays the trailing edge the window's timer would.
    await notifier.flush();

    const channel = conversationChannel(conversationId);
    expect(first.sent).toEqual([{ channel, event: "receipts.changed", payload: { conversationId, upToSeq: 1 } }]);
    expect(latest.sent).toEqual([{ channel, event: "receipts.changed", payload: { conversationId, upToSeq: 3 } }]);
    expect(notifier.published).toBe(2);
  });
});
