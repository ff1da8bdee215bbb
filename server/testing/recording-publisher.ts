import type { RealtimeEventName } from "../realtime/events";
import { createPublisher, type Publisher } from "../realtime/publisher";

export type RecordingPublisher = Publisher & {
  readonly events: { channels: string[]; event: RealtimeEventName }[];
};

/**
 * A publisher that records instead of calling Soketi, for suites that test
 * authorization rather than delivery. Channel signatures are the real ones.
 */
export function createRecordingPublisher(): RecordingPublisher {
  const signer = createPublisher({
    appId: "chorus-test",
    key: "chorus-test-key",
    secret: "chorus-test-secret",
    host: "127.0.0.1",
    port: 9,
    useTLS: false,
  });
  const events: RecordingPublisher["events"] = [];
  return {
    events,
    async publish(channels, event) {
      events.push({ channels: Array.isArray(channels) ? channels : [channels], event });
      if (events.length > 1000) events.splice(0, events.length - 1000);
    },
    authorizeChannel: (socketId, channel) => signer.authorizeChannel(socketId, channel),
    authenticateUser: (socketId, userId) => signer.authenticateUser(socketId, userId),
    async terminateUserConnections() {},
  };
}
