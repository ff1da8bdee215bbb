import { createECDH, createPublicKey, type ECDH, randomBytes, randomUUID, verify } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import ece from "http_ece";
import webpush from "web-push";
import type { PushConfig } from "../push/config";
import type { PushPayload } from "@/lib/notification-text";

/** A browser's side of a push subscription: its own key pair and auth secret, as RFC 8291 gives each one. */
export type FakeDevice = {
  name: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  ecdh: ECDH;
  /** What the push service answers for this device (410: the browser dropped the subscription). */
  status: number;
};

/**
 * A real browser's subscription: the service only checks the VAPID signature
 * against the key the browser subscribed with (as a push service refuses any
 * other signer) and forwards the body still encrypted; the browser decrypts it.
 */
export type RelayTarget = {
  name: string;
  /** The applicationServerKey the browser subscribed with (base64url, padded or not). */
  vapidKey: string;
  /** Hands the push on to the browser; answers the HTTP status for the app (201, or 410 once unsubscribed). */
  forward(push: {
    body: Buffer;
    encoding: string | undefined;
    ttl: string | undefined;
    topic: string | undefined;
  }): number;
};

export type RelayedPush = { device: string; bytes: number; status: number };

export type ReceivedPush = {
  device: string;
  payload: PushPayload;
  topic: string | undefined;
  ttl: string | undefined;
  urgency: string | undefined;
};

/**
 * A push service on 127.0.0.1: receives real encrypted pushes, checks the
 * VAPID signature against the server's public key, and decrypts each with the
 * device's private key, as a browser's push client would.
 */
export type TestPushService = {
  url: string;
  /** host:port for WEB_PUSH_ALLOW_HOSTS. */
  host: string;
  received: ReceivedPush[];
  /** Requests refused (bad signature, unknown device, undecryptable). */
  rejected: string[];
  /** Pushes handed on, still encrypted, to a real browser's subscription. */
  relayed: RelayedPush[];
  device(name: string): FakeDevice;
  /** A real browser's subscription at `/push/{id}`; returns its endpoint. */
  relay(id: string, target: RelayTarget): string;
  /** The browser unsubscribed: the endpoint answers 410 Gone from now on. */
  dropRelay(id: string): void;
  forDevice(name: string): PushPayload[];
  /** Resolves once `count` pushes in all have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  config(overrides?: Partial<PushConfig>): PushConfig;
  close(): Promise<void>;
};

/**
 * `port` fixes where it listens (e2e: the app's WEB_PUSH_ALLOW_HOSTS names it);
 * `serverPublicKey()` is the key pushes must be signed with, when the server is not
 * the in-process one using `config()`'s keys.
 */
export async function startTestPushService(
  options: { port?: number; serverPublicKey?: () => string | null } = {},
): Promise<TestPushService> {
  const vapid = { ...webpush.generateVAPIDKeys(), subject: "mailto:tests@chorus.invalid" };
  const expectedKey = () => options.serverPublicKey?.() ?? vapid.publicKey;
  const devices = new Map<string, FakeDevice>();
  const received: ReceivedPush[] = [];
  const rejected: string[] = [];
  const relays = new Map<string, RelayTarget | "gone">();
  const relayed: RelayedPush[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = req.url?.split("/").pop() ?? "";
      const relay = relays.get(id);
      if (relay) {
        if (relay === "gone") {
          res.writeHead(410).end();
          return;
        }
        const problem = checkVapid(req.headers.authorization, relay.vapidKey.replace(/=+$/, ""));
        if (problem) {
          rejected.push(problem);
          res.writeHead(401).end();
          return;
        }
        const status = relay.forward({
          body: Buffer.concat(chunks),
          encoding: header(req.headers["content-encoding"]),
          ttl: header(req.headers.ttl),
          topic: header(req.headers.topic),
        });
        relayed.push({ device: relay.name, bytes: Buffer.concat(chunks).length, status });
        res.writeHead(status).end();
        return;
      }
      const device = devices.get(id);
      const problem = !device ? "unknown device" : checkVapid(req.headers.authorization, expectedKey());
      if (problem || !device) {
        rejected.push(problem ?? "unknown device");
        res.writeHead(problem === "unknown device" ? 404 : 401).end();
        return;
      }
      if (device.status !== 201) {
        res.writeHead(device.status).end();
        return;
      }
      try {
        const clear = ece.decrypt(Buffer.concat(chunks), {
          version: "aes128gcm",
          privateKey: device.ecdh,
          authSecret: device.keys.auth,
        });
        received.push({
          device: device.name,
          payload: JSON.parse(clear.toString("utf8")) as PushPayload,
          topic: header(req.headers.topic),
          ttl: header(req.headers.ttl),
          urgency: header(req.headers.urgency),
        });
      } catch (error) {
        rejected.push(`undecryptable: ${(error as Error).message}`);
        res.writeHead(400).end();
        return;
      }
      res.writeHead(201).end();
      for (const w of waiters.filter((w) => received.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;

  return {
    url: `http://${host}`,
    host,
    received,
    rejected,
    relayed,
    relay(id, target) {
      relays.set(id, target);
      return `http://${host}/push/${id}`;
    },
    dropRelay(id) {
      relays.set(id, "gone");
    },
    device(name) {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const id = randomUUID();
      const device: FakeDevice = {
        name,
        endpoint: `http://${host}/push/${id}`,
        keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
        ecdh,
        status: 201,
      };
      devices.set(id, device);
      return device;
    },
    forDevice: (name) => received.filter((r) => r.device === name).map((r) => r.payload),
    waitFor(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} pushes, got ${received.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    config: (overrides = {}) => ({
      vapid,
      policy: { allowHosts: new Set([host]) },
      timeoutMs: 2000,
      ratePerMinute: 1000,
      ...overrides,
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** `vapid t=<ES256 JWT>, k=<public key>` signed by the server's key (RFC 8292); null when valid. */
function checkVapid(authorization: string | undefined, publicKey: string): string | null {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? "");
  if (!match) return "no VAPID authorization";
  const [, jwt, k] = match;
  if (k !== publicKey) return "VAPID key is not the server's";
  const [head, claims, signature] = jwt.split(".");
  const raw = Buffer.from(k, "base64url");
  const key = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: raw.subarray(1, 33).toString("base64url"),
      y: raw.subarray(33).toString("base64url"),
    },
    format: "jwk",
  });
  const valid = verify(
    "sha256",
    Buffer.from(`${head}.${claims}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!valid) return "bad VAPID signature";
  const body = JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as { exp?: number; aud?: string };
  if (!body.exp || body.exp * 1000 < Date.now()) return "VAPID token expired";
  return null;
}
