import type { Server } from "node:http";
import { encode } from "next-auth/jwt";
import Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing";
import { createChorusServer } from "../node-http/server";
import { createPersonas, type Persona } from "../testing/personas";
import { connectionState, startTestSoketi, type TestSoketi, testSocketOptions } from "../testing/realtime";

const AUTH_SECRET = "user-auth-test-secret-0123456789abcdef";

describe("signing a socket in", () => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let server: Server;
  let base: string;
  let alice: Persona;
  let outsider: Persona;
  let outsiderCookie: string;
  const clients: Pusher[] = [];

  beforeAll(async () => {
    handle = await createTestDb("pglite");
    realtime = await startTestSoketi({ signInTimeoutMs: 2_000 });
    [alice, outsider] = await createPersonas(handle.db, "alice", "outsider");
    outsiderCookie = `next-auth.session-token=${await encode({
      token: { sub: outsider.id, name: outsider.displayName },
      secret: AUTH_SECRET,
    })}`;
    server = createChorusServer({
      db: handle.db,
      publisher: realtime.publisher,
      authSecret: AUTH_SECRET,
      webhook: { key: realtime.config.key, secret: realtime.config.secret },
      next: async (_req, res) => {
        res.writeHead(404).end();
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await new Promise((resolve) => server.close(resolve));
    await realtime?.soketi.stop();
    await handle?.close();
  });

  const userAuth = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/pusher/user-auth`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body,
    });

  /** A raw pusher-js client whose sign-in answer is whatever `auth` gives. */
  const socketSigningInWith = (auth: (socketId: string) => Promise<{ auth: string; user_data: string }>) => {
    const client = new Pusher(realtime.config.key, {
      ...testSocketOptions(realtime),
      userAuthentication: {
        transport: "ajax",
        endpoint: "/unused",
        customHandler: ({ socketId }, callback) => {
          auth(socketId).then(
            (data) => callback(null, data),
            (error: Error) => callback(error, null),
          );
        },
      },
    });
    clients.push(client);
    client.signin();
    return client;
  };

  const signInAnswer = async (socketId: string, extra: Record<string, string> = {}) => {
    const answer = await userAuth(new URLSearchParams({ socket_id: socketId, ...extra }).toString(), {
      cookie: outsiderCookie,
    });
    expect(answer.status).toBe(200);
    return (await answer.json()) as { auth: string; user_data: string };
  };

  it("an outsider cannot sign in as someone else: the server signs the session's own id", async () => {
    const answer = await signInAnswer("123.456", { user_id: alice.id, user_data: JSON.stringify({ id: alice.id }) });
    expect(JSON.parse(answer.user_data)).toEqual({ id: outsider.id });
  });

  it("Soketi closes a socket that claims alice with the outsider's signature", async () => {
    const forged = socketSigningInWith(async (socketId) => {
      const mine = await signInAnswer(socketId);
      return { auth: mine.auth, user_data: JSON.stringify({ id: alice.id }) };
    });
    await connectionState(forged, "connected");
    await connectionState(forged, "disconnected");
  });

  it("a socket signed in with the server's answer stays connected", async () => {
    const honest = socketSigningInWith((socketId) => signInAnswer(socketId));
    const success = new Promise<unknown>((resolve) =>
      honest.connection.bind("message", (m: { event?: string; data?: unknown }) => {
        if (m.event === "pusher:signin_success") resolve(m.data);
      }),
    );
    expect(await success).toMatchObject({ user_data: JSON.stringify({ id: outsider.id }) });
    expect(honest.connection.state).toBe("connected");
  });

  it("refuses the signed out, other sites and malformed socket ids", async () => {
    expect((await userAuth("socket_id=123.456")).status).toBe(401);
    expect(
      (await userAuth("socket_id=123.456", { cookie: outsiderCookie, origin: "https://evil.example" })).status,
    ).toBe(403);
    expect((await userAuth("socket_id=alice", { cookie: outsiderCookie })).status).toBe(400);
    expect((await userAuth("", { cookie: outsiderCookie })).status).toBe(400);
  });
});
