import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import Pusher from "pusher";
import { logger } from "../logger";
import { type RealtimeServerConfig, realtimeServerConfig } from "./config";
import type { SoketiNodeSink } from "./soketi";
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

// Pusher's HTTP API takes at most 100 channels per trigger and 10 events per batch.
const MAX_CHANNELS_PER_TRIGGER = 100;
const MAX_EVENTS_PER_BATCH = 10;
const MAX_SOKETI_CONNECTIONS = 16;

export type PublisherOptions = {
  /** The Soketi node running in this process: events go to it directly instead of over its HTTP API. */
  node?: SoketiNodeSink;
};

type Delivery = Pick<Publisher, "publish" | "terminateUserConnections">;

export function createPublisher(
  config: RealtimeServerConfig = realtimeServerConfig(),
  options: PublisherOptions = {},
): Publisher {
  // Triggers reuse a few kept-alive connections to Soketi rather than one connection each.
  const agent = config.useTLS
    ? new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOKETI_CONNECTIONS })
    : new HttpAgent({ keepAlive: true, maxSockets: MAX_SOKETI_CONNECTIONS });
  const pusher = new Pusher({
    agent,
    appId: config.appId,
    key: config.key,
    secret: config.secret,
    host: config.host,
    port: String(config.port),
    useTLS: config.useTLS,
    timeout: 5000,
  });
  return {
    ...(options.node ? inProcess(options.node) : overHttp(pusher)),
    // Signing needs only the secret, wherever the events go.
    authorizeChannel(socketId, channel) {
      return pusher.authorizeChannel(socketId, channel);
    },
    authenticateUser(socketId, userId) {
      return pusher.authenticateUser(socketId, { id: userId });
    },
  };
}

function inProcess(node: SoketiNodeSink): Delivery {
  return {
    async publish(channels, event, payload) {
      // Pusher's API carries the event's data as a JSON string, and its clients parse it.
      const data = JSON.stringify(fitEventPayload(event, payload));
      for (const channel of Array.isArray(channels) ? channels : [channels]) node.send(channel, event, data);
    },
    async terminateUserConnections(userId) {
      node.terminateUserConnections(userId);
      log.debug({ userId }, "terminated user connections");
    },
  };
}

// Soketi answers 200 with the real error in the body.
async function checked(response: { text(): Promise<string> }, what: string): Promise<void> {
  const body = await response.text();
  if (!body || body === "{}") return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`Soketi answered with a non-JSON body: ${body.slice(0, 200)}`);
  }
  if (parsed && typeof parsed === "object" && "error" in parsed) {
    throw new Error(`Soketi refused ${what}: ${String((parsed as { error: unknown }).error)}`);
  }
}

function overHttp(pusher: Pusher): Delivery {
  // Single-channel events (a message, a read position, a receipts hint) from
  // concurrent requests share one HTTP call to Soketi's batch endpoint: under
  // load the trigger per event, not the fan-out, is what Soketi spends its time on.
  type Queued = { channel: string; name: string; data: unknown; done: (error?: unknown) => void };
  let queue: Queued[] = [];
  let scheduled = false;
  const sendBatch = async (batch: Queued[]) => {
    try {
      const response =
        batch.length === 1
          ? await pusher.trigger(batch[0].channel, batch[0].name, batch[0].data)
          : await pusher.triggerBatch(batch.map(({ channel, name, data }) => ({ channel, name, data })));
      await checked(response, batch.length === 1 ? batch[0].name : `a batch of ${batch.length} events`);
      for (const item of batch) item.done();
      log.debug({ events: batch.length }, "published");
    } catch (error) {
      if (batch.length === 1) {
        batch[0].done(error);
        return;
      }
      // One refused event must not fail the others it happened to share a call with.
      log.warn({ err: error, events: batch.length }, "batch publish failed; publishing its events one by one");
      await Promise.all(batch.map((item) => sendBatch([item])));
    }
  };
  const flush = () => {
    scheduled = false;
    const pending = queue;
    queue = [];
    for (let i = 0; i < pending.length; i += MAX_EVENTS_PER_BATCH) {
      void sendBatch(pending.slice(i, i + MAX_EVENTS_PER_BATCH));
    }
  };
  const publishOne = (channel: string, name: string, data: unknown) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ channel, name, data, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });

  return {
    async publish(channels, event, payload) {
      const list = Array.isArray(channels) ? channels : [channels];
      const data = fitEventPayload(event, payload);
      if (list.length === 1) return publishOne(list[0], event, data);
      for (let i = 0; i < list.length; i += MAX_CHANNELS_PER_TRIGGER) {
        const batch = list.slice(i, i + MAX_CHANNELS_PER_TRIGGER);
        await checked(await pusher.trigger(batch, event, data), event);
        log.debug({ event, channels: batch.length }, "published");
      }
    },
    async terminateUserConnections(userId) {
      const response = await pusher.terminateUserConnections(userId);
      await response.text();
      log.debug({ userId }, "terminated user connections");
    },
  };
}
