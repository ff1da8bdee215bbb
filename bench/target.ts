// What the workloads drive: the production server over HTTP (`npm run bench`),
// or the same routers in-process with a test Soketi (the smoke test). Both
// give signed-in sessions, channel authorization and a db handle for seeding.
import { randomBytes } from "node:crypto";
import type { DbHandle, DriverName } from "@/db/client";
import type { Db } from "@/db/types";
import type { BatchAuthorizer } from "@/lib/realtime-client";
import type { RealtimeServerConfig } from "@/server/realtime/config";
import type { Publisher } from "@/server/realtime/publisher";
import superjson from "superjson";
import { httpCall } from "./http-client";
import type { SeedUser } from "./seed";

export type CallKind = "query" | "mutation";

export type Session = {
  user: SeedUser;
  call<T = unknown>(kind: CallKind, path: string, input?: unknown): Promise<T>;
  /** Batch channel auth, as /api/pusher/auth answers it. */
  authorize: BatchAuthorizer;
  /** The Cookie header the session sends (HTTP sessions only). */
  cookie?: () => string;
};

/** What the HTTP-only sections need of the production server. */
export type HttpServer = {
  baseUrl: string;
  authSecret: string;
  /** The bench database (the floor server reads it too). */
  databaseUrl: string;
  /** The app server's process id (one process: Next.js, the API and the embedded Soketi). */
  pid: number;
  /** The environment it was started with. */
  env: Record<string, string>;
};

export type Target = {
  mode: "http" | "in-process";
  driver: DriverName;
  /** The bench's own handle on the database the app uses (seeding, statistics). */
  handle: DbHandle;
  db: Db;
  realtime: RealtimeServerConfig;
  publisher: Publisher;
  password: string;
  passwordHash: string;
  /** next-auth's credentials flow (HTTP), or a caller acting as the user (in-process). */
  signIn(user: SeedUser): Promise<Session>;
  /** A session without the password check, for bulk users. */
  session(user: SeedUser): Promise<Session>;
  /** CPU the app server (Next.js and the embedded Soketi) has used, when it is a separate process. */
  serverCpuSeconds?: () => number;
  /** The production server, for the sections that need HTTP (absent in-process). */
  http?: HttpServer;
  /**
   * Web Push: the loopback port the app may push to (its WEB_PUSH_ALLOW_HOSTS), and, in-process,
   * the planner the production server runs by itself.
   */
  push: { sinkPort: number; startPlanner?: () => { stop: () => Promise<void> } };
  /** Procedures the app router has, e.g. "message.send". */
  has(path: string): boolean;
  close(): Promise<void>;
};

export class CallError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(`${path}: ${code}: ${message}`);
  }
}

export const BENCH_PASSWORD = "bench-password-123";

export function randomSecret(): string {
  return randomBytes(24).toString("hex");
}

/** The routers' procedure paths, from the router definition itself. */
export async function procedurePaths(): Promise<Set<string>> {
  const { appRouter } = await import("@/server/api/root");
  return new Set(
    Object.keys((appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures),
  );
}

type CookieJar = Map<string, string>;

function keepCookies(jar: CookieJar, response: Response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
}

/** A signed-in user over HTTP: next-auth's credentials flow, keeping the session cookie. */
export async function httpSignIn(baseUrl: string, user: SeedUser, password: string): Promise<Session> {
  const jar: CookieJar = new Map();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const csrfResponse = await fetch(`${baseUrl}/api/auth/csrf`);
  keepCookies(jar, csrfResponse);
  const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
  const signIn = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie() },
    body: new URLSearchParams({ csrfToken, username: user.username, password, json: "true" }),
  });
  keepCookies(jar, signIn);
  if (![...jar.keys()].some((k) => k.includes("session-token"))) {
    throw new Error(`sign-in of ${user.username} failed with HTTP ${signIn.status}`);
  }
  return httpSession(baseUrl, user, jar);
}

/**
 * A session cookie minted with the server's AUTH_SECRET, exactly as next-auth
 * issues it: for the thousands of bulk users, whose password checks (argon2,
 * by design slow) would otherwise take most of the run.
 */
export async function mintedSession(baseUrl: string, user: SeedUser, authSecret: string): Promise<Session> {
  const { encode } = await import("next-auth/jwt");
  const token = await encode({ token: { sub: user.id, name: user.username }, secret: authSecret });
  return httpSession(baseUrl, user, new Map([["next-auth.session-token", token]]));
}

function httpSession(baseUrl: string, user: SeedUser, jar: CookieJar): Session {
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const headers = () => ({ cookie: cookie() });

  return {
    user,
    cookie,
    async call<T>(kind: CallKind, path: string, input?: unknown): Promise<T> {
      const serialized = JSON.stringify(superjson.serialize(input));
      const response =
        kind === "query"
          ? await httpCall(`${baseUrl}/api/trpc/${path}?input=${encodeURIComponent(serialized)}`, "GET", headers())
          : await httpCall(
              `${baseUrl}/api/trpc/${path}`,
              "POST",
              { ...headers(), "content-type": "application/json" },
              serialized,
            );
      const body = JSON.parse(response.text) as {
        result?: { data: { json: unknown; meta?: unknown } };
        error?: { json: { message: string; data?: { code?: string } } };
      };
      if (body.error || !body.result) {
        throw new CallError(
          path,
          body.error?.json.data?.code ?? String(response.status),
          body.error?.json.message ?? "no result",
        );
      }
      return superjson.deserialize(body.result.data as Parameters<typeof superjson.deserialize>[0]) as T;
    },
    async authorize(socketId, channels) {
      const response = await httpCall(
        `${baseUrl}/api/pusher/auth`,
        "POST",
        { ...headers(), "content-type": "application/json" },
        JSON.stringify({ socket_id: socketId, channels }),
      );
      if (response.status !== 200) throw new Error(`channel auth failed with HTTP ${response.status}`);
      return (JSON.parse(response.text) as { channels: Awaited<ReturnType<BatchAuthorizer>> }).channels;
    },
  };
}
