import { request as httpRequest, type Server } from "node:http";
import { encode } from "next-auth/jwt";
import { sql } from "drizzle-orm";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { MAX_TRPC_BATCH } from "@/lib/limits";
import { conversationChannel, userChannel } from "../realtime/channels";
import { seedGroup, tableCounts } from "../testing/conversations";
import { createPersonas, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { apiSecurityHeaders } from "../security/headers";
import { MAX_REQUEST_BYTES } from "./body";
import { createChorusServer } from "./server";

const AUTH_SECRET = "node-http-test-secret-0123456789abcdef";

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

describe.each(testDrivers)("the lean API path (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let server: Server;
  let base: string;
  let alice: Persona;
  let bob: Persona;
  let outsider: Persona;
  let group: string;
  let aliceCookie: string;
  const pagesServed: string[] = [];

  beforeAll(async () => {
    handle = await createTestDb(driver);
    realtime = await startTestSoketi();
    [alice, bob, outsider] = await createPersonas(handle.db, "alice", "bob", "outsider");
    group = await seedGroup(handle.db, alice, [bob]);
    aliceCookie = await cookieFor(alice);
    server = createChorusServer({
      db: handle.db,
      publisher: realtime.publisher,
      authSecret: AUTH_SECRET,
      webhook: { key: realtime.config.key, secret: realtime.config.secret },
      headers: () => apiSecurityHeaders(),
      next: async (req, res) => {
        pagesServed.push(req.url ?? "");
        res.writeHead(200, { "content-type": "text/plain" }).end("a page");
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await realtime.soketi.stop();
    await handle.close();
  });

  const cookieFor = async (persona: Persona, maxAge?: number) =>
    `next-auth.session-token=${await encode({ token: { sub: persona.id, name: persona.displayName }, secret: AUTH_SECRET, maxAge })}`;

  /** A raw HTTP request; `chunks` are written one by one (chunked transfer encoding, no Content-Length). */
  function call(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; chunks?: Iterable<string> } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method, headers: options.headers }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }),
        );
      });
      // The server may answer and close before a refused body is fully sent.
      req.on("error", (error: NodeJS.ErrnoException) =>
        error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error),
      );
      if (options.body !== undefined) req.end(options.body);
      else if (options.chunks) {
        const chunks = options.chunks;
        void (async () => {
          for (const chunk of chunks) {
            if (req.destroyed) return;
            if (!req.write(chunk)) {
              await new Promise((drained) => {
                req.once("drain", drained);
                req.once("close", drained);
              });
            }
          }
          req.end();
        })();
      } else req.end();
    });
  }

  const mutation = (path: string, input: unknown, headers: Record<string, string> = {}) =>
    call("POST", `/api/trpc/${path}`, {
      headers: { "content-type": "application/json", cookie: aliceCookie, ...headers },
      body: JSON.stringify(superjson.serialize(input)),
    });
  const fiveMegabytes = function* () {
    const piece = "x".repeat(64 * 1024);
    for (let i = 0; i < 80; i++) yield piece;
  };

  it("answers health from the database", async () => {
    expect(await call("GET", "/api/health")).toMatchObject({ status: 200, body: '{"ok":true}' });
  });

  it("serves a signed-in call from the session cookie alone, and sets no cookie on the answer", async () => {
    const answer = await call("GET", "/api/trpc/user.me", { headers: { cookie: aliceCookie } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).result.data.json).toMatchObject({ id: alice.id });
    expect(answer.headers["set-cookie"]).toBeUndefined();
  });

  it("treats a missing, forged or expired session as signed out", async () => {
    const forged = `next-auth.session-token=${await encode({ token: { sub: alice.id }, secret: "someone-elses-secret-0123456789ab" })}`;
    const expired = await cookieFor(alice, -10);
    for (const cookie of [undefined, forged, expired, "next-auth.session-token=garbage"]) {
      const answer = await call("GET", "/api/trpc/user.me", { headers: cookie ? { cookie } : {} });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body).error.json.data.code).toBe("UNAUTHORIZED");
    }
  });

  it("sends a message through the API and announces it", async () => {
    const answer = await mutation("message.send", { conversationId: group, clientMsgId: "http-1", body: "over http" });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).result.data.json).toMatchObject({ seq: 1, body: "over http" });
  });

  it("refuses a chunked 5 MB body to message.send before reading it all, and writes nothing", async () => {
    const before = await tableCounts(handle.db);
    const answer = await call("POST", "/api/trpc/message.send", {
      headers: { "content-type": "application/json", cookie: aliceCookie },
      chunks: fiveMegabytes(),
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await tableCounts(handle.db)).toEqual(before);
  });

  it("refuses a chunked oversized body to channel auth and to the webhook (before checking its signature)", async () => {
    for (const path of ["/api/pusher/auth", "/api/pusher/webhook"]) {
      const answer = await call("POST", path, {
        headers: { "content-type": "application/json", cookie: aliceCookie },
        chunks: fiveMegabytes(),
      });
      expect(answer.status).toBe(413);
    }
    const declared = await call("POST", "/api/pusher/auth", {
      headers: { "content-type": "application/json", "content-length": String(MAX_REQUEST_BYTES + 1) },
      body: "x".repeat(MAX_REQUEST_BYTES + 1),
    });
    expect(declared.status).toBe(413);
  });

  it(`runs no call of a batch larger than ${MAX_TRPC_BATCH}`, async () => {
    const calls = 500;
    const paths = Array.from({ length: calls }, () => "presence.heartbeat").join(",");
    const input = Object.fromEntries(
      Array.from({ length: calls }, (_, i) => [i, superjson.serialize({ away: false })]),
    );
    const before = await queryRows(handle.db, sql`select id, presence_status from users order by id`);
    const answer = await call("POST", `/api/trpc/${paths}?batch=1`, {
      headers: { "content-type": "application/json", cookie: aliceCookie },
      body: JSON.stringify(input),
    });
    expect(answer.status).toBe(400);
    expect(await queryRows(handle.db, sql`select id, presence_status from users order by id`)).toEqual(before);
  });

  it("refuses a mutation from another origin or site, and one sent as a form, and nothing changes", async () => {
    const before = await tableCounts(handle.db);
    const fromEvil = await mutation(
      "message.send",
      { conversationId: group, clientMsgId: "evil-1", body: "from another site" },
      { origin: "https://evil.example" },
    );
    expect(fromEvil.status).toBe(403);
    const sibling = await mutation(
      "user.updateProfile",
      { displayName: "Pwned" },
      { origin: base, "sec-fetch-site": "same-site" },
    );
    expect(sibling.status).toBe(403);
    const form = await call("POST", "/api/trpc/presence.heartbeat", {
      headers: { "content-type": "multipart/form-data; boundary=x", cookie: aliceCookie },
      body: '--x\r\nContent-Disposition: form-data; name="away"\r\n\r\nfalse\r\n--x--\r\n',
    });
    expect(form.status).toBe(415);
    expect(await tableCounts(handle.db)).toEqual(before);
    // The app's own pages may call it.
    const own = await mutation(
      "presence.heartbeat",
      { away: false },
      { origin: base, "sec-fetch-site": "same-origin" },
    );
    expect(own.status).toBe(200);
  });

  it("authorizes a batch of channels in one request, each answered on its own", async () => {
    const answer = await call("POST", "/api/pusher/auth", {
      headers: { "content-type": "application/json", cookie: aliceCookie },
      body: JSON.stringify({
        socket_id: "123.456",
        channels: [userChannel(alice.id), conversationChannel(group), userChannel(outsider.id)],
      }),
    });
    expect(answer.status).toBe(200);
    const { channels } = JSON.parse(answer.body);
    expect(channels[userChannel(alice.id)]).toHaveProperty("auth");
    expect(channels[conversationChannel(group)]).toHaveProperty("auth");
    expect(channels[userChannel(outsider.id)]).toMatchObject({ status: 403 });
    const signedOut = await call("POST", "/api/pusher/auth", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ socket_id: "123.456", channels: [userChannel(alice.id)] }),
    });
    expect(signedOut.status).toBe(401);
  });

  it("sends the security headers on every API answer, refusals included", async () => {
    const answers = [
      await call("GET", "/api/health"),
      await call("GET", "/api/trpc/user.me", { headers: { cookie: aliceCookie } }),
      await call("GET", "/api/trpc/user.me"),
      await call("POST", "/api/pusher/auth", { headers: { origin: "https://evil.example" }, body: "{}" }),
    ];
    for (const answer of answers) {
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
      expect(answer.headers["x-frame-options"]).toBe("DENY");
    }
  });

  it("hands every other path to Next.js", async () => {
    expect(await call("GET", "/sign-in?next=%2F")).toMatchObject({ status: 200, body: "a page" });
    expect(await call("GET", "/api/auth/session")).toMatchObject({ status: 200, body: "a page" });
    expect(pagesServed).toEqual(["/sign-in?next=%2F", "/api/auth/session"]);
  });
});
