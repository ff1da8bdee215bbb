import { randomUUID } from "node:crypto";
import { type WebSocket, WebSocketServer } from "ws";
import { startTestPushService, type TestPushService } from "../server/testing/push-endpoint";
import { firefoxPushPorts } from "../playwright.config";

/** What Firefox's push client said to the service, for the spec to assert on. */
export type Registration = { channelID: string; key: string | undefined; endpoint: string };
export type Ack = { channelID: string; version: string; code: number };

export type MozillaPushService = {
  /** For Firefox's `dom.push.serverURL`. */
  url: string;
  /** The RFC 8030 side the app POSTs to (on the app's WEB_PUSH_ALLOW_HOSTS). */
  http: TestPushService;
  registrations: Registration[];
  unregistered: string[];
  /** Firefox's answers to each push: 100 delivered, 101 could not decrypt, 102 not delivered. */
  acks: Ack[];
  /** Errors Firefox reported after acking (e.g. 302: the service worker's push handler rejected). */
  nacks: { version: string; code: number }[];
  /** Resolves once `count` pushes in all have been acked. */
  waitForAcks(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

type Pending = { uaid: string; channelID: string; version: string; data: string; encoding: string };

/**
 * A push service for a real Firefox, on 127.0.0.1: the WebSocket protocol
 * Firefox's push client speaks to Mozilla's autopush (hello, register,
 * unregister, notification, ack, ping; see PushServiceWebSocket.sys.mjs),
 * and on the HTTP side the test push endpoint, which checks the app's VAPID
 * signature against the key the browser subscribed with and hands the body
 * on still encrypted. Pushes wait for Firefox while it is not connected and
 * are sent again on reconnect until acked, as autopush does.
 */
export async function startMozillaPushService(): Promise<MozillaPushService> {
  const http = await startTestPushService({ port: firefoxPushPorts.http });
  const registrations: Registration[] = [];
  const unregistered: string[] = [];
  const acks: Ack[] = [];
  const nacks: { version: string; code: number }[] = [];
  const pending: Pending[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  // Each browser's open socket, by the UAID the service gave it.
  const sockets = new Map<string, WebSocket>();

  const send = (ws: WebSocket, message: object) => ws.send(JSON.stringify(message));
  const notify = (ws: WebSocket, p: Pending) =>
    send(ws, {
      messageType: "notification",
      channelID: p.channelID,
      version: p.version,
      data: p.data,
      headers: { encoding: p.encoding },
    });

  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: firefoxPushPorts.ws,
    handleProtocols: (offered) => (offered.has("push-notification") ? "push-notification" : false),
  });
  wss.on("connection", (ws) => {
    let uaid: string | null = null;
    ws.on("close", () => {
      if (uaid && sockets.get(uaid) === ws) sockets.delete(uaid);
    });
    ws.on("message", (raw) => {
      const message = JSON.parse(raw.toString()) as Record<string, unknown>;
      switch (message.messageType) {
        case "hello": {
          // A browser with subscriptions says who it is; one without gets a new UAID.
          const id = typeof message.uaid === "string" && message.uaid ? message.uaid : randomUUID().replaceAll("-", "");
          uaid = id;
          sockets.set(id, ws);
          send(ws, { messageType: "hello", uaid: id, status: 200, use_webpush: true });
          for (const p of pending.filter((p) => p.uaid === id)) notify(ws, p);
          break;
        }
        case "register": {
          const channelID = String(message.channelID);
          const key = typeof message.key === "string" ? message.key : undefined;
          const owner = uaid;
          if (!key || !owner) {
            // Chorus always subscribes with its VAPID key; a push service could not check the signer without it.
            send(ws, { messageType: "register", channelID, status: 401 });
            break;
          }
          const endpoint = http.relay(channelID, {
            name: channelID,
            vapidKey: key,
            forward: ({ body, encoding }) => {
              const p = {
                uaid: owner,
                channelID,
                version: randomUUID(),
                data: body.toString("base64url"),
                encoding: encoding ?? "",
              };
              pending.push(p);
              const socket = sockets.get(owner);
              if (socket) notify(socket, p);
              return 201;
            },
          });
          registrations.push({ channelID, key, endpoint });
          send(ws, { messageType: "register", channelID, status: 200, pushEndpoint: endpoint });
          break;
        }
        case "unregister": {
          const channelID = String(message.channelID);
          http.dropRelay(channelID);
          unregistered.push(channelID);
          send(ws, { messageType: "unregister", channelID, status: 200 });
          break;
        }
        case "ack": {
          for (const update of (message.updates ?? []) as Ack[]) {
            acks.push(update);
            const at = pending.findIndex((p) => p.version === update.version);
            if (at >= 0) pending.splice(at, 1);
          }
          for (const w of waiters.filter((w) => acks.length >= w.count)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
          break;
        }
        case "nack":
          nacks.push({ version: String(message.version), code: Number(message.code) });
          break;
        default:
          // `{}` is Firefox's ping; the answer is the pong.
          if (message.messageType === undefined || message.messageType === "ping") send(ws, {});
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });

  return {
    url: `ws://127.0.0.1:${firefoxPushPorts.ws}/`,
    http,
    registrations,
    unregistered,
    acks,
    nacks,
    waitForAcks(count, timeoutMs = 15_000) {
      if (acks.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} acks, got ${acks.length}`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await http.close();
    },
  };
}
