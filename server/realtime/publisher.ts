import Pusher from "pusher";
import { logger } from "../logger";
import { type RealtimeServerConfig, realtimeServerConfig } from "./config";
import type { RealtimeEventName, RealtimeEvents } from "./events";
import { fitEventPayload } from "./payload-limit";

const log = logger.child({ domain: "realtime" });

export interface Publisher {
  publish<E extends RealtimeEventName>(
    channels: string | string[],
    event: E,
    payload: RealtimeEvents[E],
  ): Promise<void>;
  /** Signs a private channel subscription for a socket. */
  authorizeChannel(socketId: string, channel: string): { auth: string };
  /** Signs a socket's `pusher:signin` as this user: Soketi can then close the user's sockets. */
  authenticateUser(socketId: string, userId: string): { auth: string; user_data: string };
  /** Closes every signed-in socket of the user (code 4009); their clients reconnect and authorize afresh. */
  terminateUserConnections(userId: string): Promise<void>;
}

// Pusher's HTTP API takes at most 100 channels per trigger.
const MAX_CHANNELS_PER_TRIGGER = 100;

export function createPublisher(config: RealtimeServerConfig = realtimeServerConfig()): Publisher {
  const pusher = new Pusher({
    appId: config.appId,
    key: config.key,
    secret: config.secret,
    host: config.host,
    port: String(config.port),
    useTLS: config.useTLS,
    timeout: 5000,
  });

  return {
    async publish(channels, event, payload) {
      const list = Array.isArray(channels) ? channels : [channels];
      const data = fitEventPayload(event, payload);
      for (let i = 0; i < list.length; i += MAX_CHANNELS_PER_TRIGGER) {
        const batch = list.slice(i, i + MAX_CHANNELS_PER_TRIGGER);
        const response = await pusher.trigger(batch, event, data);
        // Soketi answers 200 with the real error in the body.
        const body = await response.text();
        if (body && body !== "{}") {
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            throw new Error(`Soketi answered with a non-JSON body: ${body.slice(0, 200)}`);
          }
          if (parsed && typeof parsed === "object" && "error" in parsed) {
            throw new Error(`Soketi refused ${event}: ${String((parsed as { error: unknown }).error)}`);
          }
        }
        log.debug({ event, channels: batch.length }, "published");
      }
    },
    authorizeChannel(socketId, channel) {
      return pusher.authorizeChannel(socketId, channel);
    },
    authenticateUser(socketId, userId) {
      return pusher.authenticateUser(socketId, { id: userId });
    },
    async terminateUserConnections(userId) {
      const response = await pusher.terminateUserConnections(userId);
      await response.text();
      log.debug({ userId }, "terminated user connections");
    },
  };
}

const globalForPublisher = globalThis as unknown as { chorusPublisher?: Publisher };

/** The process-wide publisher for the configured Soketi. */
export function getPublisher(): Publisher {
  globalForPublisher.chorusPublisher ??= createPublisher();
  return globalForPublisher.chorusPublisher;
}
