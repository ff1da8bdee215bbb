import { createServer } from "node:net";
import Pusher from "pusher-js";
import type { Db } from "@/db/types";
import { authorizeChannels } from "../realtime/authorize";
import { authOptions, reconnectWhenRefused } from "@/lib/realtime-client";
import type { RealtimeServerConfig } from "../realtime/config";
import { createPublisher, type Publisher } from "../realtime/publisher";
import { type EmbeddedSoketi, startEmbeddedSoketi } from "../realtime/soketi";
import { authenticateSocket } from "../realtime/user-auth";
import { soketiWebhooks } from "../realtime/webhooks";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type TestSoketi = {
  soketi: EmbeddedSoketi;
  config: RealtimeServerConfig;
  /** Hands events to the node in this process, as the server on Node 20 does. */
  publisher: Publisher;
  /** Over Soketi's HTTP API, as a server does with a Soketi of its own (a child process, compose's). */
  httpPublisher: Publisher;
};

/** A real Soketi on a free loopback port, with publishers into it. */
export async function startTestSoketi(
  options: { webhookUrl?: string; signInTimeoutMs?: number } = {},
): Promise<TestSoketi> {
  const port = await freePort();
  const config: RealtimeServerConfig = {
    appId: "chorus-test",
    key: "chorus-test-key",
    secret: "chorus-test-secret",
    host: "127.0.0.1",
    port,
    useTLS: false,
  };
  const soketi = await startEmbeddedSoketi({
    port,
    appId: config.appId,
    key: config.key,
    secret: config.secret,
    webhooks: options.webhookUrl ? soketiWebhooks("").map((w) => ({ ...w, url: options.webhookUrl as string })) : [],
    signInTimeoutMs: options.signInTimeoutMs,
  });
  return {
    soketi,
    config,
    publisher: createPublisher(config, { node: soketi.sink }),
    httpPublisher: createPublisher(config),
  };
}

/**
 * A pusher-js client in Node acting as a user, set up as the browser's is:
 * it signs in and reconnects when Soketi ends its connection. pusher-js sends
 * no cookies in Node, so it authorizes and signs in through the same
 * functions /api/pusher/auth and /api/pusher/user-auth call. `signIn: false`
 * is a hand-made client that never signs in.
 */
/** pusher-js options of every test client: straight to the test Soketi over plain ws. */
export function testSocketOptions(realtime: TestSoketi) {
  return {
    cluster: "",
    wsHost: "127.0.0.1",
    wsPort: realtime.config.port,
    forceTLS: false,
    enabledTransports: ["ws" as const],
    disableStats: true,
  };
}

export function connectAs(
  db: Db,
  realtime: TestSoketi,
  userId: string,
  options: { onAuthRequest?: (channels: string[]) => void; signIn?: boolean } = {},
): Pusher {
  const pusher = new Pusher(realtime.config.key, {
    ...testSocketOptions(realtime),
    ...authOptions(
      async (socketId, channels) => {
        options.onAuthRequest?.(channels);
        return authorizeChannels(db, realtime.publisher, userId, socketId, channels);
      },
      async (socketId) => authenticateSocket(realtime.publisher, { userId, socketId }),
    ),
  });
  if (options.signIn === false) return pusher;
  pusher.signin();
  const stop = reconnectWhenRefused(pusher, { minDelayMs: 50, maxDelayMs: 500 });
  const disconnect = pusher.disconnect.bind(pusher);
  pusher.disconnect = () => {
    stop();
    disconnect();
  };
  return pusher;
}

/** Resolves once the socket is signed in (pusher:signin_success). */
export function signedIn(pusher: Pusher): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: { event?: string }) => {
      if (message.event !== "pusher:signin_success") return;
      pusher.connection.unbind("message", onMessage);
      resolve();
    };
    pusher.connection.bind("message", onMessage);
  });
}

/** Resolves when the connection reaches `state` (e.g. "disconnected" after Soketi closed it). */
export function connectionState(pusher: Pusher, state: string): Promise<void> {
  return new Promise((resolve) => {
    if (pusher.connection.state === state) return resolve();
    const onChange = ({ current }: { current: string }) => {
      if (current !== state) return;
      pusher.connection.unbind("state_change", onChange);
      resolve();
    };
    pusher.connection.bind("state_change", onChange);
  });
}

/** Resolves once the channel is subscribed; rejects when the subscription is refused. */
export function subscribed(pusher: Pusher, channelName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const channel = pusher.subscribe(channelName);
    channel.bind("pusher:subscription_succeeded", () => resolve());
    channel.bind("pusher:subscription_error", (error: unknown) =>
      reject(new Error(`subscription to ${channelName} refused: ${JSON.stringify(error)}`)),
    );
  });
}

/**
 * Resolves with the next `event` on a subscribed channel (that `matches`, when
 * given). A publish resolves once the node has the event, not once a socket
 * has read it: an earlier publish's event can still be on its way.
 */
export function nextEvent<T>(
  pusher: Pusher,
  channelName: string,
  event: string,
  matches: (data: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const channel = pusher.channel(channelName) ?? pusher.subscribe(channelName);
    const handler = (data: T) => {
      if (!matches(data)) return;
      channel.unbind(event, handler);
      resolve(data);
    };
    channel.bind(event, handler);
  });
}
