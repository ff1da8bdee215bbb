import { logger } from "../logger";
import type { SoketiWebhook } from "./webhooks";
import { soketiNodeProblem } from "./node-support";

const log = logger.child({ domain: "soketi" });

export type EmbeddedSoketiOptions = {
  port: number;
  host?: string;
  appId: string;
  key: string;
  secret: string;
  /** Soketi webhooks (presence: channel_occupied / channel_vacated). */
  webhooks?: SoketiWebhook[];
  /** A socket that has not signed in (`pusher:signin`) this long after connecting is closed. */
  signInTimeoutMs?: number;
  /** Joins the Soketi cluster on this Redis (redis:// URL): events published through any node reach every node's sockets. */
  redisUrl?: string;
};

/** Soketi's dotted options for its Redis adapter, from a redis:// URL. */
export function redisAdapterOptions(redisUrl: string): Record<string, unknown> {
  const url = new URL(redisUrl);
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new Error(`not a redis:// URL: ${redisUrl}`);
  const db = Number(url.pathname.replace(/^\//, "") || 0);
  // Soketi's own client settings give up on a command after 2 retries and reconnect every few
  // milliseconds: a Redis restart then rejected a publish nobody awaited, which ended the node.
  // Commands wait for the reconnect instead (clients fill any gap from history), retried at most once a second.
  const resilient = { maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 100, 1_000) };
  return {
    "adapter.driver": "redis",
    "adapter.redis.prefix": "chorus",
    "adapter.redis.redisPubOptions": resilient,
    "adapter.redis.redisSubOptions": resilient,
    "database.redis.host": url.hostname,
    "database.redis.port": Number(url.port || 6379),
    "database.redis.db": Number.isInteger(db) ? db : 0,
    "database.redis.username": url.username ? decodeURIComponent(url.username) : null,
    "database.redis.password": url.password ? decodeURIComponent(url.password) : null,
    ...(url.protocol === "rediss:" ? { "database.redis.tls": {} } : {}),
  };
}

/** Browsers sign in right after connecting: one request to /api/pusher/user-auth. */
export const SIGN_IN_TIMEOUT_MS = 10_000;

/** How long Soketi gathers webhook events before it sends them in one request. */
export const WEBHOOK_BATCH_MS = 50;

/**
 * Events handed straight to this node, as Soketi's HTTP API does once it has
 * checked a request: to its sockets and, clustered, through Redis to the
 * other nodes'. The process that runs the node skips the HTTP round trip, the
 * signing and Soketi's parsing of it (on a send, a twelfth of the app's CPU,
 * and two turns of a busy event loop before the sender's answer).
 */
export type SoketiNodeSink = {
  /** `data` is the event's JSON, as Pusher's HTTP API carries it. */
  send: (channel: string, event: string, data: string) => void;
  terminateUserConnections: (userId: string) => void;
};

export type EmbeddedSoketi = {
  port: number;
  sink: SoketiNodeSink;
  /** The cluster-discovery settings in force (tests check they stay on loopback). */
  discovery: { address: string; destinations: string[] };
  stop: () => Promise<void>;
};

export class SoketiUnavailableError extends Error {}

type SoketiSocket = {
  user?: { id: string };
  sendJson: (data: unknown) => void;
  end: (code: number) => void;
  chorusSignInDeadline?: NodeJS.Timeout;
};

type SoketiWsHandler = {
  setUserAuthenticationTimeout: (ws: SoketiSocket) => void;
  onClose: (ws: SoketiSocket, code: number, message: unknown) => void;
};

type SoketiAdapter = {
  send: (appId: string, channel: string, data: string, exceptingId: string | null) => unknown;
  terminateUserConnections: (appId: string, userId: string) => unknown;
};

type SoketiServer = {
  adapter?: SoketiAdapter;
  start: (cb: (server: SoketiServer) => void) => Promise<void>;
  stop: () => Promise<void>;
  wsHandler?: SoketiWsHandler;
  discover?: { stop?: () => void; broadcast?: { destination?: { address: string }[] | string[] } };
  serverProcess?: unknown;
};

/**
 * Soketi 1.6 counts a private-channel subscription as authentication and
 * then stops waiting for `pusher:signin`; a socket that subscribed but never
 * signed in could not be found by terminateUserConnections, so a removed
 * member's hand-made client would keep the group's channel. Here a socket is
 * closed unless it signs in, subscribed or not. (The official image in
 * docker-compose keeps Soketi's rule: see the note there.)
 */
function requireSignIn(server: SoketiServer, timeoutMs: number) {
  const handler = server.wsHandler;
  if (!handler) throw new Error("Soketi's websocket handler is missing: is this Soketi 1.6?");
  const arm = handler.setUserAuthenticationTimeout.bind(handler);
  const close = handler.onClose.bind(handler);
  handler.setUserAuthenticationTimeout = (ws) => {
    arm(ws);
    ws.chorusSignInDeadline = setTimeout(() => {
      if (ws.user) return;
      ws.sendJson({ event: "pusher:error", data: { code: 4009, message: "Sign in within the timeout." } });
      try {
        ws.end(4009);
      } catch {
        // Already closed.
      }
    }, timeoutMs);
  };
  handler.onClose = (ws, code, message) => {
    clearTimeout(ws.chorusSignInDeadline);
    close(ws, code, message);
  };
}

/**
 * Starts Soketi in this process. Its uWebSockets build exists for Node 20
 * only; elsewhere this throws SoketiUnavailableError with the ways out.
 */
export async function startEmbeddedSoketi(options: EmbeddedSoketiOptions): Promise<EmbeddedSoketi> {
  const problem = soketiNodeProblem(process.versions.node);
  if (problem) throw new SoketiUnavailableError(problem);
  let Server: new (options: Record<string, unknown>) => SoketiServer;
  try {
    ({ Server } = (await import("@soketi/soketi")) as unknown as { Server: typeof Server });
  } catch (error) {
    throw new SoketiUnavailableError(
      `Soketi could not be loaded (${(error as Error).message}). Run Chorus with Node 20, or set PUSHER_HOST and PUSHER_PORT to an external Soketi.`,
    );
  }
  const host = options.host ?? "127.0.0.1";
  const signInTimeoutMs = options.signInTimeoutMs ?? SIGN_IN_TIMEOUT_MS;
  const server = new Server({
    host,
    port: options.port,
    debug: false,
    // Cluster discovery broadcasts UDP to 255.255.255.255 by default: keep it on loopback.
    "cluster.address": "127.0.0.1",
    "cluster.unicast": "127.0.0.1",
    "cluster.broadcast": "127.0.0.1",
    "metrics.enabled": false,
    "metrics.host": "127.0.0.1",
    "metrics.port": options.port + 10_000 > 65_535 ? options.port - 10_000 : options.port + 10_000,
    shutdownGracePeriod: 200,
    userAuthenticationTimeout: signInTimeoutMs,
    // Presence webhooks gathered for a moment into one request: a reconnect storm of 500 users
    // was 1,000 requests (and as many new connections from Soketi) without it.
    "webhooks.batching.enabled": true,
    "webhooks.batching.duration": WEBHOOK_BATCH_MS,
    ...(options.redisUrl ? redisAdapterOptions(options.redisUrl) : {}),
    "appManager.array.apps": [
      {
        id: options.appId,
        key: options.key,
        secret: options.secret,
        maxConnections: -1,
        // Nothing a browser sends reaches other browsers: typing goes through the server, which names the typist.
        enableClientMessages: false,
        // Every socket signs in as its user, so removal can close that user's sockets (terminateUserConnections).
        enableUserAuthentication: true,
        enabled: true,
        maxBackendEventsPerSecond: -1,
        maxClientEventsPerSecond: -1,
        maxReadRequestsPerSecond: -1,
        webhooks: options.webhooks ?? [],
      },
    ],
  });
  await new Promise<void>((resolve, reject) => {
    server
      .start((started) => {
        if (!started.serverProcess)
          reject(new Error(`Soketi could not listen on ${host}:${options.port} (port in use?)`));
        else {
          try {
            requireSignIn(started, signInTimeoutMs);
            resolve();
          } catch (error) {
            void server.stop().finally(() => reject(error));
          }
        }
      })
      .catch(reject);
  });
  const destinations = (server.discover?.broadcast?.destination ?? []).map((d) =>
    typeof d === "string" ? d : d.address,
  );
  const adapter = server.adapter;
  if (!adapter) throw new Error("Soketi's adapter is missing: is this Soketi 1.6?");
  let stopped = false;
  const open = () => {
    if (stopped) throw new Error("the embedded Soketi has stopped");
    return adapter;
  };
  log.info({ host, port: options.port, cluster: options.redisUrl ? "redis" : "none" }, "soketi started");
  return {
    port: options.port,
    sink: {
      send(channel, event, data) {
        open().send(options.appId, channel, JSON.stringify({ event, channel, data }), null);
      },
      terminateUserConnections(userId) {
        open().terminateUserConnections(options.appId, userId);
      },
    },
    discovery: { address: "127.0.0.1", destinations },
    async stop() {
      stopped = true;
      await server.stop();
      // Soketi's stop leaves the discovery socket and timers running.
      server.discover?.stop?.();
      log.info({ port: options.port }, "embedded soketi stopped");
    },
  };
}
