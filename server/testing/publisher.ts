import type { RealtimeEventName } from "../realtime/events";
import type { Publisher } from "../realtime/publisher";

export type Published = { channels: string[]; event: RealtimeEventName; payload: unknown };
export type Terminated = { userId: string };

/**
 * A publisher that keeps what it is asked to publish, for suites about
 * database state; suites about delivery use the real test Soketi
 * (server/testing/realtime.ts) through useTestPublisher.
 */
export function recordingPublisher(): Publisher & { published: Published[]; terminated: Terminated[] } {
  const published: Published[] = [];
  const terminated: Terminated[] = [];
  return {
    published,
    terminated,
    async publish(channels, event, payload) {
      published.push({ channels: Array.isArray(channels) ? channels : [channels], event, payload });
    },
    authorizeChannel: (socketId, channel) => ({ auth: `test:${socketId}:${channel}` }),
    authenticateUser: (socketId, userId) => ({
      auth: `test:${socketId}:user:${userId}`,
      user_data: JSON.stringify({ id: userId }),
    }),
    async terminateUserConnections(userId) {
      terminated.push({ userId });
    },
  };
}

let current: Publisher | undefined;

/** Routes callers made by callerFor to a test Soketi's publisher. */
export function useTestPublisher(publisher: Publisher) {
  current = publisher;
}

export function testPublisher(): Publisher {
  current ??= recordingPublisher();
  return current;
}
