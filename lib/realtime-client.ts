import Pusher, { type Channel, type Options } from "pusher-js";
import type { RealtimeClientConfig } from "./config";

export type ChannelAuthResult = { auth: string; channel_data?: string } | { error: string; status: number };
/** Authorizes many channels for one socket in one request. */
export type BatchAuthorizer = (socketId: string, channels: string[]) => Promise<Record<string, ChannelAuthResult>>;

type Pending = {
  channel: string;
  resolve: (value: { auth: string; channel_data?: string }) => void;
  reject: (error: Error) => void;
};

/**
 * Collects the channels pusher-js asks to authorize within `windowMs` and
 * sends them as one request: a user in hundreds of conversations makes about
 * one auth round trip on (re)connect, not one per channel.
 */
export function createBatchingAuthorizer(authorize: BatchAuthorizer, windowMs = 15) {
  const queues = new Map<string, Pending[]>();
  const flush = async (socketId: string) => {
    const pending = queues.get(socketId) ?? [];
    queues.delete(socketId);
    if (pending.length === 0) return;
    try {
      const results = await authorize(socketId, [...new Set(pending.map((p) => p.channel))]);
      for (const p of pending) {
        const result = results[p.channel];
        if (result && "auth" in result) p.resolve(result);
        else p.reject(new Error(result?.error ?? `not authorized for ${p.channel}`));
      }
    } catch (error) {
      for (const p of pending) p.reject(error as Error);
    }
  };
  return (socketId: string, channel: string) =>
    new Promise<{ auth: string; channel_data?: string }>((resolve, reject) => {
      let queue = queues.get(socketId);
      if (!queue) {
        queue = [];
        queues.set(socketId, queue);
        setTimeout(() => void flush(socketId), windowMs);
      }
      queue.push({ channel, resolve, reject });
    });
}

/** The batch form of /api/pusher/auth over fetch; `headers` carries cookies in Node. */
export function httpBatchAuthorizer(
  endpoint: string,
  headers: () => Record<string, string> = () => ({}),
): BatchAuthorizer {
  return async (socketId, channels) => {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers() },
      body: JSON.stringify({ socket_id: socketId, channels }),
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`channel auth failed with HTTP ${response.status}`);
    const body = (await response.json()) as { channels: Record<string, ChannelAuthResult> };
    return body.channels;
  };
}

export type RealtimeClientOptions = {
  config: RealtimeClientConfig;
  authorize: BatchAuthorizer;
  /** The host the page came from, used when config.host is null. */
  fallbackHost?: string;
  extra?: Partial<Options>;
};

export function createRealtimeClient({ config, authorize, fallbackHost, extra }: RealtimeClientOptions): Pusher {
  const authorizeOne = createBatchingAuthorizer(authorize);
  return new Pusher(config.key, {
    cluster: "",
    wsHost: config.host ?? fallbackHost ?? "127.0.0.1",
    wsPort: config.port,
    wssPort: config.port,
    forceTLS: config.useTLS,
    enabledTransports: ["ws", "wss"],
    disableStats: true,
    channelAuthorization: {
      transport: "ajax",
      endpoint: "/api/pusher/auth",
      customHandler: ({ socketId, channelName }, callback) => {
        authorizeOne(socketId, channelName).then(
          (data) => callback(null, data),
          (error: Error) => callback(error, null),
        );
      },
    },
    ...extra,
  });
}

export type { Channel, Pusher };
