import { resolveResponse } from "@trpc/server/http";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing";
import { MAX_TRPC_BATCH } from "@/lib/limits";
import { appRouter } from "../api/root";
import type { Context } from "../api/trpc";
import { seedGroup } from "../testing/conversations";
import { createPersonas, type Persona } from "../testing/personas";
import { testPublisher } from "../testing/publisher";
import { isSingleCall, resolveSingleCall } from "./trpc-single";

type Case = { name: string; method: "GET" | "POST"; path: string; input?: string; body?: string; signedIn?: boolean };

const q = (value: unknown) => JSON.stringify(superjson.serialize(value));

describe("one unbatched tRPC call on the lean path", () => {
  let handle: TestDb;
  let alice: Persona;
  let bob: Persona;
  let group: string;
  const ctxFor = (user: Persona | null): Context => ({
    db: handle.db,
    publisher: testPublisher(),
    user: user ? { id: user.id, name: user.username } : null,
    ip: "198.51.100.7",
  });

  beforeAll(async () => {
    handle = await createTestDb("pglite");
    [alice, bob] = await createPersonas(handle.db, "alice", "bob");
    group = await seedGroup(handle.db, alice, [bob]);
  });
  afterAll(async () => {
    await handle.close();
  });

  /** tRPC's own answer to the same request, through a real fetch Request. */
  async function reference(c: Case, ctx: Context) {
    const search = c.input === undefined ? "" : `?input=${encodeURIComponent(c.input)}`;
    const req = new Request(`http://localhost/api/trpc/${c.path}${search}`, {
      method: c.method,
      headers: c.method === "POST" ? { "content-type": "application/json" } : {},
      body: c.method === "POST" ? (c.body ?? "") : undefined,
    });
    const response = await resolveResponse({
      router: appRouter,
      req,
      path: c.path,
      maxBatchSize: MAX_TRPC_BATCH,
      error: null,
      createContext: async () => ctx,
    });
    return { status: response.status, body: await response.text() };
  }

  const lean = (c: Case, ctx: Context) =>
    resolveSingleCall(appRouter, { method: c.method, path: c.path, queryInput: c.input ?? null, body: c.body }, ctx);

  const cases = (): Case[] => [
    { name: "a signed-in query without input", method: "GET", path: "user.me" },
    { name: "a query signed out", method: "GET", path: "user.me", signedIn: false },
    { name: "a query with valid input", method: "GET", path: "sync.since", input: q({ version: 0 }) },
    { name: "a query whose input fails validation", method: "GET", path: "sync.since", input: q({ version: "x" }) },
    { name: "a query whose input is not JSON", method: "GET", path: "sync.since", input: "{not json" },
    { name: "a query whose input is missing", method: "GET", path: "sync.since" },
    { name: "a query of a conversation", method: "GET", path: "message.history", input: q({ conversationId: group }) },
    {
      name: "a query of an unknown conversation",
      method: "GET",
      path: "message.history",
      input: q({ conversationId: "00000000-0000-4000-8000-000000000000" }),
    },
    { name: "a query at an unknown path", method: "GET", path: "nothing.here" },
    { name: "a query sent as POST", method: "POST", path: "user.me", body: q(undefined) },
    { name: "a mutation sent as GET", method: "GET", path: "message.send", input: q({ conversationId: group }) },
    { name: "a mutation with an empty body", method: "POST", path: "message.send", body: "" },
    { name: "a mutation whose body is not JSON", method: "POST", path: "message.send", body: "]" },
    {
      name: "a mutation with wrong types",
      method: "POST",
      path: "message.send",
      body: q({ conversationId: group, clientMsgId: 7, body: ["x"] }),
    },
    {
      name: "a mutation refused by a domain rule (empty message)",
      method: "POST",
      path: "message.send",
      body: q({ conversationId: group, clientMsgId: "empty-1", body: "   " }),
    },
  ];

  it.each(cases().map((c) => [c.name, c] as const))(
    "%s: the same status and the same bytes as resolveResponse",
    async (_name, c) => {
      const ctx = ctxFor(c.signedIn === false ? null : alice);
      const search = new URLSearchParams(c.input === undefined ? "" : `input=${encodeURIComponent(c.input)}`);
      expect(
        isSingleCall(c.method, c.path, search, c.method === "POST" ? { "content-type": "application/json" } : {}),
      ).toBe(true);
      const mine = await lean(c, ctx);
      const theirs = await reference(c, ctx);
      // Tests run in development mode, where error shapes carry the stack: the call sites differ, nothing else may.
      const withoutStack = (answer: { status: number; body: string } | null) =>
        answer && { status: answer.status, body: answer.body.replace(/,"stack":"(?:[^"\\]|\\.)*"/, "") };
      expect(withoutStack(mine)).toEqual(withoutStack(theirs));
      expect(mine?.body.length).toBeGreaterThan(10);
    },
  );

  it("a successful mutation answers as resolveResponse does: the stored message, status 200", async () => {
    const send = (clientMsgId: string): Case => ({
      name: "send",
      method: "POST",
      path: "message.send",
      body: q({ conversationId: group, clientMsgId, body: "hello" }),
    });
    const mine = await lean(send("lean-1"), ctxFor(alice));
    const theirs = await reference(send("reference-1"), ctxFor(alice));
    expect(mine?.status).toBe(200);
    expect(theirs.status).toBe(200);
    const shape = (body: string) => {
      const data = superjson.deserialize((JSON.parse(body) as { result: { data: never } }).result.data) as Record<
        string,
        unknown
      >;
      return Object.keys(data).sort();
    };
    expect(shape(mine?.body ?? "")).toEqual(shape(theirs.body));
  });

  it("batches, streams, form data and odd paths are left to resolveResponse", () => {
    const none = new URLSearchParams();
    expect(isSingleCall("GET", "user.me,sync.since", new URLSearchParams("batch=1"), {})).toBe(false);
    expect(isSingleCall("GET", "user.me", new URLSearchParams("batch=1"), {})).toBe(false);
    expect(isSingleCall("GET", "user.me", none, { "trpc-accept": "application/jsonl" })).toBe(false);
    expect(isSingleCall("GET", "user.me", none, { accept: "text/html, application/jsonl" })).toBe(false);
    expect(isSingleCall("POST", "user.me", none, { "content-type": "multipart/form-data; boundary=x" })).toBe(false);
    expect(isSingleCall("GET", "user%2Eme", none, {})).toBe(false);
    expect(isSingleCall("HEAD", "user.me", none, {})).toBe(false);
    expect(isSingleCall("GET", "user.me", none, {})).toBe(true);
  });
});
