import { createHmac, randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { handlePusherWebhook, type WebhookCredentials } from "../presence/webhook";
import { authorizeChannels, parseChannelAuthRequest } from "../realtime/authorize";
import { conversationChannel, userChannel } from "../realtime/channels";
import { WriteGuard } from "../testing/footprint";
import type { Persona } from "../testing/personas";
import { useTestPublisher } from "../testing/read-state";
import { createRecordingPublisher } from "../testing/recording-publisher";
import { seedWorld, type World } from "../testing/world";
import { authzMatrix } from "./authz-matrix";
import { appRouter, createCaller } from "./root";

// The two realtime endpoints as the HTTP layer calls them: when their signatures move, only these move.
const parseAuthBody = (contentType: string, rawBody: string) => parseChannelAuthRequest(contentType, rawBody);
const authorize = (db: Db, userId: string, socketId: string, channels: string[]) =>
  authorizeChannels(db, publisher, userId, socketId, channels);
const webhook = (db: Db, rawBody: string, headers: { key?: string; signature?: string }) =>
  handlePusherWebhook({ rawBody, ...headers }, { db, publisher, credentials });

const publisher = createRecordingPublisher();
const credentials: WebhookCredentials = { key: "fuzz-key", secret: "fuzz-secret" };

/** 10,000 cases a run, as the security issue asks: most for the procedures, the rest for the realtime endpoints. */
const TOTAL_CASES = 10_000;
const REALTIME_CASES = { parse: 800, authorize: 400, webhook: 800 };
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures;
const paths = Object.keys(procedures);
const procedureCases = TOTAL_CASES - REALTIME_CASES.parse - REALTIME_CASES.authorize - REALTIME_CASES.webhook;
const managedByRole = new Set(["group.update", "group.addMembers", "group.removeMember", "group.setRole"]);
const casesFor = (index: number) =>
  Math.floor(procedureCases / paths.length) + (index < procedureCases % paths.length ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Inputs: JSON-ish values with the edges that break servers, and valid inputs with one part replaced.

const edgeNumber = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  1,
  -1,
  0.5,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 63,
  -(2 ** 63),
  1e308,
  Number.MIN_VALUE,
  Number.EPSILON,
);
const number = fc.oneof(edgeNumber, fc.integer(), fc.double(), fc.nat({ max: 10 }));

const edgeChar = fc.constantFrom(
  "\u0000",
  "\uD800",
  "\uDBFF",
  "\uDC00",
  "\uDFFF",
  "\u202E",
  "\uFEFF",
  "\u200B",
  "\u0085",
  "\u007F",
  "\n",
  "\t",
  "%",
  "_",
  "\\",
  "'",
  '"',
  "@",
  "a",
  " ",
);
// Every UTF-16 unit, so lone surrogates come up too.
const char = fc.oneof(
  edgeChar,
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
);

const hugeStrings = [
  "x".repeat(100_001),
  "😀".repeat(5_000),
  "\u0000".repeat(4_097),
  "a\uD800".repeat(3_000),
  " ".repeat(10_000),
];

// Shaped like the keyset cursors list endpoints hand out (base64url JSON), with odd parts inside.
const uuidish = fc.oneof(fc.uuid(), fc.constantFrom("-".repeat(36), "f".repeat(36), `${"0".repeat(35)}g`));
const cursorPart = fc.oneof(
  fc.string({ unit: char, maxLength: 20 }),
  fc.constantFrom("2026-12-01 12:00:00.123456+00", "not a date", "infinity", "epoch", "294277-01-01", ""),
  number,
);
const cursorShaped = fc
  .oneof(
    fc.record({ at: cursorPart, id: uuidish }),
    fc.tuple(fc.oneof(fc.integer(), edgeNumber), cursorPart, uuidish),
    fc.anything(),
  )
  .map((c) => Buffer.from(JSON.stringify(c) ?? "null").toString("base64url"));

function stringArb(world: World) {
  const ids = [world.alice.id, world.bob.id, world.carol.id, world.dave.id, world.erin.id, world.frank.id];
  const conversations = [world.groupId, world.dmId];
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: char, maxLength: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: edgeChar, minLength: 1, maxLength: 3 }) },
    { weight: 2, arbitrary: fc.constantFrom(...ids, ...conversations) },
    { weight: 1, arbitrary: fc.uuid() },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        " ",
        "__proto__",
        "constructor",
        "null",
        "NaN",
        "' or 1=1 --",
        "%",
        "admin",
        "owner",
        "https://example.com/a.png",
        "javascript:alert(1)",
        "1.2",
        "00000000-0000-0000-0000-000000000000",
        `${world.groupId.toUpperCase()}`,
        `${world.groupId}\u0000`,
        userChannel(world.carol.id),
        conversationChannel(world.groupId),
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(...hugeStrings) },
    { weight: 1, arbitrary: cursorShaped },
  );
}

const edgeKey = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "then",
  "conversationId",
  "userId",
  "userIds",
  "items",
  "seq",
  "body",
  "name",
  "announcement",
  "displayName",
  "avatarUrl",
  "query",
  "limit",
  "cursor",
  "version",
  "status",
  "role",
  "away",
  "muted",
  "fromSeq",
  "toSeq",
  "beforeSeq",
  "afterSeq",
  "clientMsgId",
  "memberIds",
  "username",
  "password",
);

/** Objects built like JSON.parse builds them: `__proto__` is an own key, not the prototype. */
const objectOf = <T>(key: fc.Arbitrary<string>, value: fc.Arbitrary<T>) =>
  fc.array(fc.tuple(key, value), { maxLength: 6 }).map((entries) => Object.fromEntries(entries));

function nested(depth: number): unknown {
  let value: unknown = { conversationId: null };
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { items: value };
  return value;
}

// At the batch limits (10,000 people a request): unknown users, and one user named 10,000 times.
const tenThousandIds = Array.from({ length: 10_000 }, () => randomUUID());

function anyInputArb(world: World): fc.Arbitrary<unknown> {
  const string = stringArb(world);
  const key = fc.oneof({ weight: 3, arbitrary: edgeKey }, { weight: 1, arbitrary: string });
  const leaf = fc.oneof(
    fc.constantFrom(null, undefined, true, false),
    number,
    string,
    fc.bigInt(),
    fc.date({ noInvalidDate: false }),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: 4 },
      leaf,
      fc.array(tie("value"), { maxLength: 5 }),
      objectOf(key, tie("value")),
    ),
  }));
  return fc.oneof(
    { weight: 6, arbitrary: value },
    { weight: 1, arbitrary: fc.constantFrom(50, 800).map(nested) },
    { weight: 1, arbitrary: fc.array(fc.constant(world.groupId), { minLength: 201, maxLength: 12_000 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        tenThousandIds,
        Array.from({ length: 10_000 }, () => world.erin.id),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.anything({
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withSparseArray: true,
        withBoxedValues: true,
        maxDepth: 3,
      }),
    },
  );
}

/** replace: any value; tweak: a value of the same type (a number by an edge number, a string by an odd string). */
type Mutation = {
  kind: "replace" | "tweak" | "delete" | "add";
  pick: number;
  key: string;
  value: unknown;
  number: number;
  string: string;
};

/** Every place in a value that can be replaced: object fields and array items, at any depth. */
function slots(value: unknown, into: { parent: Record<string, unknown>; key: string }[] = []) {
  if (value && typeof value === "object") {
    for (const key of Object.keys(value)) {
      into.push({ parent: value as Record<string, unknown>, key });
      slots((value as Record<string, unknown>)[key], into);
    }
  }
  return into;
}

function decodeCursorLike(text: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    return value && typeof value === "object" ? value : undefined;
  } catch {
    return undefined;
  }
}
const encodeCursorLike = (value: unknown) => Buffer.from(safeStringify(value)).toString("base64url");

function mutate(valid: unknown, m: Mutation): unknown {
  if (valid === undefined || valid === null || typeof valid !== "object") return m.value;
  const copy = structuredClone(valid) as Record<string, unknown>;
  const places = slots(copy);
  if (m.kind === "add" || places.length === 0) {
    // Optional fields the valid input leaves out (cursor, limit, beforeSeq...) get odd strings and numbers too.
    const value = [m.value, m.string, m.number][m.pick % 3];
    Object.defineProperty(copy, m.key, { value, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const { parent, key } = places[m.pick % places.length];
  const old = parent[key];
  if (m.kind === "delete") delete parent[key];
  else if (m.kind === "tweak" && typeof old === "number") parent[key] = m.number;
  else if (m.kind === "tweak" && typeof old === "string") {
    // A cursor is mutated inside its encoding too, so its decoder meets well-encoded nonsense.
    const inner = m.pick % 2 === 0 ? decodeCursorLike(old) : undefined;
    // Or odd text spliced into the valid string ("https://example.com/a.png\u0000"), which passes more checks.
    const at = m.pick % (old.length + 1);
    parent[key] =
      inner !== undefined
        ? encodeCursorLike(mutate(inner, m))
        : m.pick % 3 === 0
          ? m.string
          : old.slice(0, at) + m.string + old.slice(at);
  } else parent[key] = m.value;
  return copy;
}

function mutationArb(world: World): fc.Arbitrary<Mutation> {
  return fc.record({
    kind: fc.constantFrom(
      "replace" as const,
      "tweak" as const,
      "tweak" as const,
      "delete" as const,
      "add" as const,
      "add" as const,
    ),
    pick: fc.nat(),
    key: fc.oneof(edgeKey, stringArb(world)),
    value: anyInputArb(world),
    number,
    string: stringArb(world),
  });
}

// ---------------------------------------------------------------------------------------------
// Properties.

function callerAs(db: Db, persona: Persona) {
  const ctx = { db, user: { id: persona.id, name: persona.displayName }, publisher };
  return createCaller(ctx);
}

function procedureOf(caller: ReturnType<typeof createCaller>, path: string): (input: unknown) => Promise<unknown> {
  let target: unknown = caller;
  for (const key of path.split(".")) target = (target as Record<string, unknown>)[key];
  return target as (input: unknown) => Promise<unknown>;
}

const describeInput = (input: unknown) => {
  try {
    const text = JSON.stringify(input, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
    return text === undefined ? String(input) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(input);
  }
};

/**
 * The optional fields a matrix input leaves out, filled with real values
 * (a cursor the endpoint handed out), so mutations reach their decoders.
 */
async function optionalFields(db: Db, world: World, path: string): Promise<Record<string, unknown>> {
  const carol = callerAs(db, world.carol);
  switch (path) {
    case "conversation.list": {
      await callerAs(db, world.carol).conversation.openDm({ userId: world.erin.id });
      const page = await carol.conversation.list({ limit: 1 });
      return { cursor: page.nextCursor, limit: 30 };
    }
    case "group.members": {
      const page = await carol.group.members({ conversationId: world.groupId, limit: 1 });
      return { cursor: page.nextCursor, limit: 50 };
    }
    case "message.history":
      return { beforeSeq: world.groupSeq, limit: 50 };
    case "message.search":
      return {
        conversationId: world.groupId,
        fromUserId: world.carol.id,
        after: "2000-01-01T00:00:00Z",
        before: "2100-01-01T00:00:00Z",
        cursor: "0",
        limit: 20,
      };
    case "user.search":
      return { limit: 20 };
    case "user.updateProfile":
      return { avatarUrl: "https://example.com/carol.png" };
    case "group.create":
      return { avatarUrl: "https://example.com/g.png", announcement: "Welcome" };
    case "group.update":
      return { avatarUrl: "https://example.com/g.png" };
    default:
      return {};
  }
}

async function dbAnswers(db: Db) {
  const [row] = await queryRows<{ ok: number }>(db, sql`select 1 as ok`);
  expect(Number(row.ok)).toBe(1);
}

describe.each(testDrivers)("fuzzing every procedure's input (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;

  beforeAll(async () => {
    useTestPublisher(publisher);
    handle = await createTestDb(driver);
    db = handle.db;
  });
  afterAll(async () => {
    await handle?.close();
  });

  it.each(paths.map((path, index) => ({ path, cases: casesFor(index) })))(
    "$path never fails with a 500, and writes nothing when it refuses ($cases cases)",
    async ({ path, cases }) => {
      const world = await seedWorld(db, publisher);
      // Admin procedures may deactivate carol herself (a fuzzed userId); gina cannot deactivate gina.
      const member = path.startsWith("admin.") ? world.gina : world.carol;
      // A plain member is refused these by role before any work is done; half their cases run as
      // the owner (a member too) so the handler behind the role check is fuzzed as well.
      const callers = managedByRole.has(path)
        ? [world.carol, world.alice]
        : path.startsWith("admin.")
          ? [world.carol, world.gina]
          : [world.carol];
      const guard = new WriteGuard(db);
      const tally: Record<string, number> = {};
      const base = (authzMatrix[path]?.input ?? (() => undefined)) as (w: World, me: Persona) => unknown;
      const extra = await optionalFields(db, world, path);
      const valid = (w: World, me: Persona) => {
        const input = base(w, me);
        return input && typeof input === "object" ? { ...input, ...extra } : input;
      };
      const input = fc.tuple(
        fc.oneof(
          anyInputArb(world).map((value) => ({ kind: "any" as const, value })),
          mutationArb(world).map((mutation) => ({ kind: "mutated" as const, mutation })),
        ),
        fc.constantFrom(...callers),
      );
      await fc.assert(
        fc.asyncProperty(input, async ([generated, caller]) => {
          const value = generated.kind === "any" ? generated.value : mutate(valid(world, caller), generated.mutation);
          await guard.arm();
          let code: string;
          try {
            await procedureOf(callerAs(db, caller), path)(value);
            code = "OK";
          } catch (error) {
            if (!(error instanceof TRPCError)) throw new Error(`${path} threw a non-tRPC error: ${String(error)}`);
            code = error.code;
          }
          expect(code, `${path}(${describeInput(value)})`).not.toBe("INTERNAL_SERVER_ERROR");
          tally[code] = (tally[code] ?? 0) + 1;
          if (code !== "OK") await guard.expectUnchanged(`a refused ${path}(${describeInput(value)})`);
        }),
        { numRuns: cases },
      );
      // A fuzz refused by zod every time would test only zod: some cases must reach the handler.
      const reached = Object.entries(tally).filter(([code]) => code !== "BAD_REQUEST");
      expect(reached.length, `${path}: no case got past input validation ${JSON.stringify(tally)}`).toBeGreaterThan(0);
      await dbAnswers(db);
      await expect(callerAs(db, member).user.me()).resolves.toMatchObject({ id: member.id });
    },
  );

  it("the write guard notices an insert and an update that a refused call would have made", async () => {
    const world = await seedWorld(db, publisher);
    const guard = new WriteGuard(db);
    await guard.arm();
    await db.execute(
      sql`insert into users (username, display_name, password_hash) values (${`x${randomUUID()}`}, 'X', 'x')`,
    );
    await expect(guard.expectUnchanged("an insert")).rejects.toThrow(/row counts/);
    await guard.arm();
    await db.execute(sql`update users set display_name = 'Erin!' where id = ${world.erin.id}`);
    await expect(guard.expectUnchanged("an update")).rejects.toThrow(/stored rows/);
  });

  it("the channel-auth parser answers any body with a request or an error, never a throw", () => {
    const garbage = fc.oneof(
      fc.string({ unit: char, maxLength: 200 }),
      fc.constantFrom(...hugeStrings),
      anyInputArb({ ...fakeWorld }).map((v) => safeStringify(v)),
      fc
        .array(fc.tuple(fc.oneof(edgeKey, fc.constantFrom("socket_id", "channel_name", "channels")), fc.string()))
        .map((entries) => new URLSearchParams(entries).toString()),
      fc
        .record({
          socket_id: fc.oneof(fc.constantFrom("1.2", "123.456", "1.2\n", " 1.2"), fc.string({ unit: char })),
          channels: fc.oneof(fc.array(fc.string({ unit: char }), { maxLength: 600 }), fc.string()),
          channel_name: fc.string({ unit: char, maxLength: 250 }),
        })
        .map((v) => JSON.stringify(v)),
    );
    const contentType = fc.oneof(
      fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
      ),
      fc.string({ unit: char, maxLength: 40 }),
    );
    fc.assert(
      fc.property(contentType, garbage, (type, body) => {
        const parsed = parseAuthBody(type, body);
        if ("error" in parsed) {
          expect(typeof parsed.error).toBe("string");
          expect(parsed.error.length).toBeGreaterThan(0);
          return;
        }
        expect(parsed.socketId).toMatch(/^\d+\.\d+$/);
        expect(parsed.channels.length).toBeGreaterThanOrEqual(1);
        expect(parsed.channels.length).toBeLessThanOrEqual(500);
        for (const name of parsed.channels) {
          expect(typeof name).toBe("string");
          expect(name.length).toBeGreaterThanOrEqual(1);
          expect(name.length).toBeLessThanOrEqual(200);
        }
      }),
      { numRuns: REALTIME_CASES.parse },
    );
  });

  it("the channel authorizer signs exactly the member's own channels and denies the rest with a 403", async () => {
    const world = await seedWorld(db, publisher);
    const guard = new WriteGuard(db);
    const channelName = fc.oneof(
      fc.constantFrom(
        userChannel(world.carol.id),
        userChannel(world.alice.id),
        userChannel(world.carol.id.toUpperCase()),
        conversationChannel(world.groupId),
        conversationChannel(world.groupId.toUpperCase()),
        conversationChannel(world.dmId),
        `${conversationChannel(world.groupId)}\u0000`,
        `presence-conversation-${world.groupId}`,
        "private-user-",
        "private-conversation-not-a-uuid",
      ),
      fc.uuid().map(conversationChannel),
      fc.uuid().map(userChannel),
      fc.string({ unit: char, minLength: 1, maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(channelName, { minLength: 1, maxLength: 20 }), async (channels) => {
        await guard.arm();
        const results = await authorize(db, world.carol.id, "1234.5678", channels);
        for (const name of channels) {
          const own = name === userChannel(world.carol.id) || name === conversationChannel(world.groupId);
          const result = results[name];
          if (own) expect(result, name).toHaveProperty("auth");
          else expect(result, name).toMatchObject({ status: 403 });
        }
        await guard.expectUnchanged("channel auth");
      }),
      { numRuns: REALTIME_CASES.authorize },
    );
    await dbAnswers(db);
  });

  it("the webhook answers garbage with a 4xx and never throws", async () => {
    const world = await seedWorld(db, publisher);
    const guard = new WriteGuard(db);
    const sign = (body: string) => createHmac("sha256", credentials.secret).update(body).digest("hex");
    const event = fc.record(
      {
        name: fc.oneof(fc.constantFrom("channel_occupied", "channel_vacated", "member_added"), fc.string()),
        channel: fc.oneof(
          fc.constantFrom(
            userChannel(world.carol.id),
            userChannel(world.carol.id.toUpperCase()),
            conversationChannel(world.groupId),
          ),
          fc.uuid().map(userChannel),
          fc.string({ unit: char, maxLength: 60 }),
          number,
        ),
      },
      { requiredKeys: ["name"] },
    );
    const wellShaped = fc
      .record({
        time_ms: fc.oneof(
          fc.integer({ min: -60_000, max: 60_000 }).map((d) => Date.now() + d),
          number,
        ),
        events: fc.array(event, { maxLength: 5 }),
      })
      .map((v) => JSON.stringify(v));
    const body = fc.oneof(
      wellShaped,
      fc.string({ unit: char, maxLength: 200 }),
      anyInputArb(world).map((v) => safeStringify(v)),
      fc.constantFrom(...hugeStrings),
    );
    const headers = fc.constantFrom("signed", "unsigned", "wrong key", "bad hex", "other secret");
    await fc.assert(
      fc.asyncProperty(body, headers, async (raw, how) => {
        const sent =
          how === "signed"
            ? { key: credentials.key, signature: sign(raw) }
            : how === "unsigned"
              ? { key: credentials.key }
              : how === "wrong key"
                ? { key: "someone-else", signature: sign(raw) }
                : how === "bad hex"
                  ? { key: credentials.key, signature: `${sign(raw).slice(0, 62)}zz` }
                  : { key: credentials.key, signature: createHmac("sha256", "x").update(raw).digest("hex") };
        await guard.arm();
        const answer = await webhook(db, raw, sent);
        expect(answer.status, `webhook ${how} ${describeInput(raw)}`).toBeLessThan(500);
        if (how !== "signed") expect(answer.status).toBe(401);
        if (answer.status >= 400) {
          expect(answer.status).toBeGreaterThanOrEqual(400);
          await guard.expectUnchanged(`a refused webhook (${how}) ${describeInput(raw)}`);
        } else {
          expect(answer.status).toBe(200);
        }
      }),
      { numRuns: REALTIME_CASES.webhook },
    );
    await dbAnswers(db);
  });
});

const fakeWorld: World = {
  alice: { id: "a0000000-0000-4000-8000-000000000000", username: "alice", displayName: "Alice" },
  bob: { id: "b0000000-0000-4000-8000-000000000000", username: "bob", displayName: "Bob" },
  carol: { id: "c0000000-0000-4000-8000-000000000000", username: "carol", displayName: "Carol" },
  dave: { id: "d0000000-0000-4000-8000-000000000000", username: "dave", displayName: "Dave" },
  erin: { id: "e0000000-0000-4000-8000-000000000000", username: "erin", displayName: "Erin" },
  frank: { id: "f0000000-0000-4000-8000-000000000000", username: "frank", displayName: "Frank" },
  gina: { id: "60000000-0000-4000-8000-000000000000", username: "gina", displayName: "Gina" },
  hank: { id: "70000000-0000-4000-8000-000000000000", username: "hank", displayName: "Hank" },
  groupId: "10000000-0000-4000-8000-000000000000",
  dmId: "20000000-0000-4000-8000-000000000000",
  groupSeq: 3,
  kickoffSeq: 1,
};

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v)) ?? "null";
  } catch {
    return String(value);
  }
}
