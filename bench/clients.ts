// pusher-js clients in this process, acting as signed-in users: Chorus
// channels authorize in batches (one request per socket for many channels),
// baseline channels one request each, as the naive design does.
import Pusher from "pusher-js";
import { createBatchingAuthorizer } from "@/lib/realtime-client";
import type { Target, Session } from "./target";

export const BASELINE_CHANNEL_PREFIX = "private-baseline-";

export const authRequests = { chorus: 0, baseline: 0, chorusChannels: 0 };

export type BaselineAuthorizer = (userId: string, socketId: string, channel: string) => Promise<{ auth: string }>;

/** Who gets told about each delivery: one tracker at a time, set by the running workload. */
export class DeliveryTracker {
  private sentAt = new Map<string, number>();
  readonly latencies: number[] = [];
  received = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly expected: number) {}

  sent(clientMsgId: string, at = performance.now()) {
    this.sentAt.set(clientMsgId, at);
  }

  receive(clientMsgId: string | null) {
    const at = clientMsgId ? this.sentAt.get(clientMsgId) : undefined;
    if (at === undefined) return;
    this.latencies.push(performance.now() - at);
    this.received++;
    if (this.received >= this.expected) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when every expected delivery arrived, or after timeoutMs with what did. */
  done(timeoutMs: number): Promise<void> {
    if (this.received >= this.expected) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

let tracker: DeliveryTracker | null = null;
export function track(next: DeliveryTracker | null) {
  tracker = next;
}

export type BenchClient = { session: Session; pusher: Pusher };

export function connectClient(target: Target, session: Session, baselineAuth?: BaselineAuthorizer): BenchClient {
  const batched = createBatchingAuthorizer(async (socketId, channels) => {
    authRequests.chorus++;
    authRequests.chorusChannels += channels.length;
    return session.authorize(socketId, channels);
  });
  // The naive design: one HTTP request per channel.
  const baselineAuthorize = (channel: string, socketId: string) => {
    if (!baselineAuth) return Promise.reject(new Error("this client has no baseline channels"));
    authRequests.baseline++;
    return baselineAuth(session.user.id, socketId, channel);
  };
  const pusher = new Pusher(target.realtime.key, {
    cluster: "",
    wsHost: "127.0.0.1",
    wsPort: target.realtime.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    activityTimeout: 120_000,
    pongTimeout: 60_000,
    channelAuthorization: {
      transport: "ajax",
      endpoint: "/unused",
      customHandler: ({ socketId, channelName }, callback) => {
        const answer = channelName.startsWith(BASELINE_CHANNEL_PREFIX)
          ? baselineAuthorize(channelName, socketId)
          : batched(socketId, channelName);
        answer.then(
          (data) => callback(null, data),
          (error: Error) => callback(error, null),
        );
      },
    },
    // Soketi closes sockets that do not sign in. Signed here with the app's credentials, as
    // /api/pusher/user-auth would sign them (the session's own user), without its round trip.
    userAuthentication: {
      transport: "ajax",
      endpoint: "/unused",
      customHandler: ({ socketId }, callback) =>
        callback(null, target.publisher.authenticateUser(socketId, session.user.id)),
    },
  });
  pusher.signin();
  return { session, pusher };
}

export function connected(client: BenchClient): Promise<void> {
  if (client.pusher.connection.state === "connected") return Promise.resolve();
  return new Promise((resolve) => client.pusher.connection.bind("connected", () => resolve()));
}

/**
 * Subscribes and resolves once every channel is subscribed (rejects after
 * timeoutMs); deliveries of message.new go to the current tracker.
 */
export function subscribeAll(client: BenchClient, channels: string[], timeoutMs = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${client.session.user.username}: not every channel subscribed within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const all = Promise.all(
    channels.map(
      (name) =>
        new Promise<void>((resolve, reject) => {
          const channel = client.pusher.subscribe(name);
          if (channel.subscribed) return resolve();
          channel.bind("message.new", (data: { clientMsgId: string | null; senderId: string | null }) => {
            if (data.senderId !== client.session.user.id) tracker?.receive(data.clientMsgId);
          });
          const ok = () => {
            channel.unbind("pusher:subscription_succeeded", ok);
            resolve();
          };
          channel.bind("pusher:subscription_succeeded", ok);
          channel.bind("pusher:subscription_error", (error: unknown) =>
            reject(new Error(`subscription to ${name} refused: ${JSON.stringify(error)}`)),
          );
        }),
    ),
  ).then(() => undefined);
  return Promise.race([all, timeout]).finally(() => clearTimeout(timer));
}

export function disconnectAll(clients: BenchClient[]) {
  for (const c of clients) c.pusher.disconnect();
}
