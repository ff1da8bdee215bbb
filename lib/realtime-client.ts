// The browser's realtime client (pusher-js), also driven from Node by tests and the bench.
import Pusher, { type Channel, type Options } from "pusher-js";
import type { RealtimeClientConfig } from "@/server/realtime/config";

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

export type UserAuth = { auth: string; user_data: string };
/** Signs a socket in as the signed-in user (the server decides who that is). */
export type UserAuthenticator = (socketId: string) => Promise<UserAuth>;

/** /api/pusher/user-auth over fetch; `headers` carries cookies in Node. */
export function httpUserAuthenticator(
  endpoint: string,
  headers: () => Record<string, string> = () => ({}),
): UserAuthenticator {
  return async (socketId) => {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers() },
      body: JSON.stringify({ socket_id: socketId }),
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`sign-in failed with HTTP ${response.status}`);
    return (await response.json()) as UserAuth;
  };
}

/** pusher-js options that authorize channels in batches and sign the socket in. */
export function authOptions(authorize: BatchAuthorizer, authenticate: UserAuthenticator): Partial<Options> {
  const authorizeOne = createBatchingAuthorizer(authorize);
  return {
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
    userAuthentication: {
      transport: "ajax",
      endpoint: "/api/pusher/user-auth",
      customHandler: ({ socketId }, callback) => {
        authenticate(socketId).then(
          (data) => callback(null, data),
          (error: Error) => callback(error, null),
        );
      },
    },
  };
}

const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

function closeCode(error: unknown): number | null {
  const e = error as { data?: { code?: unknown }; error?: { data?: { code?: unknown } } } | null;
  const code = e?.data?.code ?? e?.error?.data?.code;
  return typeof code === "number" ? code : null;
}

/**
 * pusher-js gives up for good when the server closes the socket with a code
 * in 4000-4099; Soketi uses 4009 when the app ends a user's connections (a
 * removal) or a socket did not sign in. Reconnect then, with backoff: on
 * connect pusher-js signs in again and resubscribes every channel, and the
 * channels the user may no longer see are refused. Returns a stop function;
 * call it before disconnecting on purpose.
 */
export function reconnectWhenRefused(
  pusher: Pusher,
  options: { minDelayMs?: number; maxDelayMs?: number } = {},
): () => void {
  const min = options.minDelayMs ?? RECONNECT_MIN_MS;
  const max = options.maxDelayMs ?? RECONNECT_MAX_MS;
  let refused = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const onError = (error: unknown) => {
    const code = closeCode(error);
    if (code !== null && code >= 4000 && code < 4100) refused = true;
  };
  const onMessage = (message: { event?: string }) => {
    // Signed in: the connection is healthy again, the next refusal starts from the shortest delay.
    if (message.event === "pusher:signin_success") attempt = 0;
  };
  const onStateChange = ({ current }: { current: string }) => {
    if (current !== "disconnected" || !refused || timer) return;
    refused = false;
    const delay = Math.min(max, min * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt++;
    timer = setTimeout(() => {
      timer = null;
      if (pusher.connection.state === "disconnected") pusher.connect();
    }, delay);
  };
  pusher.connection.bind("error", onError);
  pusher.connection.bind("message", onMessage);
  pusher.connection.bind("state_change", onStateChange);
  return () => {
    if (timer) clearTimeout(timer);
    timer = null;
    pusher.connection.unbind("error", onError);
    pusher.connection.unbind("message", onMessage);
    pusher.connection.unbind("state_change", onStateChange);
  };
}

export type RealtimeClientOptions = {
  config: RealtimeClientConfig;
  authorize: BatchAuthorizer;
  authenticate: UserAuthenticator;
  /** The host the page came from, used when config.host is null. */
  fallbackHost?: string;
  extra?: Partial<Options>;
};

/** A signed-in pusher-js client; pair it with reconnectWhenRefused. */
export function createRealtimeClient({
  config,
  authorize,
  authenticate,
  fallbackHost,
  extra,
}: RealtimeClientOptions): Pusher {
  const pusher = new Pusher(config.key, {
    cluster: "",
    wsHost: config.host ?? fallbackHost ?? "127.0.0.1",
    wsPort: config.port,
    wssPort: config.port,
    forceTLS: config.useTLS,
    enabledTransports: ["ws", "wss"],
    disableStats: true,
    ...authOptions(authorize, authenticate),
    ...extra,
  });
  // Soketi closes sockets that do not sign in; pusher-js signs in again on every reconnect.
  pusher.signin();
  return pusher;
}

export type { Channel, Pusher };
