import type { Server } from "node:http";
import { encode } from "next-auth/jwt";
import Pusher from "pusher-js";
import superjson from "superjson";
import type { Db } from "@/db/types";
import { authOptions, httpBatchAuthorizer, httpUserAuthenticator, reconnectWhenRefused } from "@/lib/realtime-client";
import { createChorusServer } from "../node-http/server";
import type { Persona } from "./personas";
import { type TestSoketi, testSocketOptions } from "./realtime";

export const TEST_AUTH_SECRET = "chorus-http-test-secret-0123456789abcdef";

export type TrpcAnswer = { status: number; data?: unknown; code?: string; message?: string };

/**
 * A Chorus API server on a free loopback port over a test database and a
 * real Soketi, with what a browser would do: session cookies, tRPC calls
 * and a pusher-js client that authorizes through the HTTP endpoints.
 */
export async function startTestServer(db: Db, realtime: TestSoketi) {
  const server: Server = createChorusServer({
    db,
    publisher: realtime.publisher,
    authSecret: TEST_AUTH_SECRET,
    webhook: { key: realtime.config.key, secret: realtime.config.secret },
    next: async (_req, res) => {
      res.writeHead(404).end();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const clients: Pusher[] = [];

  /** The cookie of a session signed in at `epoch`, as next-auth's jwt callback writes it. */
  const cookieFor = async (persona: Persona, epoch = 0) =>
    `next-auth.session-token=${await encode({
      token: { sub: persona.id, name: persona.displayName, epoch },
      secret: TEST_AUTH_SECRET,
    })}`;

  async function answerOf(response: Response): Promise<TrpcAnswer> {
    const body = (await response.json()) as {
      result?: { data: { json: unknown; meta?: unknown } };
      error?: { json: { message: string; data: { code: string } } };
    };
    if (body.result) {
      return { status: response.status, data: superjson.deserialize(body.result.data as never) };
    }
    return { status: response.status, code: body.error?.json.data.code, message: body.error?.json.message };
  }

  const query = async (cookie: string | null, path: string, input?: unknown) => {
    const encoded =
      input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;
    return answerOf(await fetch(`${base}/api/trpc/${path}${encoded}`, { headers: cookie ? { cookie } : {} }));
  };

  const mutation = async (cookie: string | null, path: string, input?: unknown) =>
    answerOf(
      await fetch(`${base}/api/trpc/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
        body: JSON.stringify(superjson.serialize(input ?? null)),
      }),
    );

  /** POST /api/pusher/auth for one channel with this cookie: the HTTP status. */
  const channelAuthStatus = async (cookie: string, channel: string) =>
    (
      await fetch(`${base}/api/pusher/auth`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ socket_id: "1234.5678", channels: [channel] }),
      })
    ).status;

  /** A pusher-js client signed in with this cookie, reconnecting as the browser's does. */
  function connect(cookie: string): Pusher {
    const headers = () => ({ cookie });
    const pusher = new Pusher(realtime.config.key, {
      ...testSocketOptions(realtime),
      ...authOptions(
        httpBatchAuthorizer(`${base}/api/pusher/auth`, headers),
        httpUserAuthenticator(`${base}/api/pusher/user-auth`, headers),
      ),
    });
    pusher.signin();
    const stop = reconnectWhenRefused(pusher, { minDelayMs: 50, maxDelayMs: 500 });
    const disconnect = pusher.disconnect.bind(pusher);
    pusher.disconnect = () => {
      stop();
      disconnect();
    };
    clients.push(pusher);
    return pusher;
  }

  return {
    base,
    cookieFor,
    query,
    mutation,
    channelAuthStatus,
    connect,
    async close() {
      for (const client of clients) client.disconnect();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;
