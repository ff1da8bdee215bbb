import { and, eq, isNull } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as schema from "@/db/schema";
import { conversations, type MemberRole, members } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { AppError } from "../errors";
import { createGroup, updateGroup } from "../groups/info";
import { addMembers, leaveGroup, removeMember, setRole } from "../groups/membership";
import type { GroupDeps } from "../groups/rules";
import { callerFor, createPersona, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { type SyncDelta, syncSince } from "./since";

/** What a client holds: its groups' info and each group's members with their roles. */
type ClientState = Record<string, { info: Record<string, unknown>; members: Record<string, MemberRole> }>;

/** The reference client: applies one sync delta to what it holds. */
function applyDelta(state: ClientState, delta: SyncDelta): ClientState {
  const next: ClientState = structuredClone(state);
  for (const id of delta.removed) delete next[id];
  for (const { membersReset, ...info } of delta.groups) {
    const known = next[info.id];
    next[info.id] = { info, members: membersReset || !known ? {} : known.members };
  }
  for (const m of delta.members) {
    const group = next[m.conversationId];
    if (!group) throw new Error(`member row for a group the client does not hold: ${m.conversationId}`);
    if (m.leftAt) delete group.members[m.userId];
    else group.members[m.userId] = m.role;
  }
  return next;
}

/** The server's truth for one user, read directly from the tables (not through sync). */
async function serverState(db: Db, userId: string): Promise<ClientState> {
  const groups = await db
    .select({ c: conversations })
    .from(members)
    .innerJoin(conversations, eq(conversations.id, members.conversationId))
    .where(and(eq(members.userId, userId), isNull(members.leftAt), eq(conversations.kind, "group")));
  const state: ClientState = {};
  for (const { c } of groups) {
    const rows = await db
      .select({ userId: members.userId, role: members.role })
      .from(members)
      .where(and(eq(members.conversationId, c.id), isNull(members.leftAt)));
    state[c.id] = {
      info: {
        id: c.id,
        name: c.name,
        avatarUrl: c.avatarUrl,
        announcement: c.announcement,
        memberCount: c.memberCount,
        createdBy: c.createdBy,
        createdAt: c.createdAt.toISOString(),
        version: c.version,
      },
      members: Object.fromEntries(rows.map((r) => [r.userId, r.role])),
    };
  }
  return state;
}

const person = fc.integer({ min: 0, max: 3 });
const someone = fc.uniqueArray(person, { maxLength: 4 });
const groupPick = fc.nat(20);
const groupOp = fc.oneof(
  fc.record({ op: fc.constant("create" as const), actor: person, with: someone, name: fc.constantFrom("A", "B", "C") }),
  fc.record({
    op: fc.constant("rename" as const),
    actor: person,
    group: groupPick,
    name: fc.constantFrom("X", "Y", "Z"),
  }),
  fc.record({
    op: fc.constant("announce" as const),
    actor: person,
    group: groupPick,
    text: fc.constantFrom("", "Standup at 10", "Ship it"),
  }),
  fc.record({ op: fc.constant("add" as const), actor: person, group: groupPick, users: someone }),
  fc.record({ op: fc.constant("remove" as const), actor: person, group: groupPick, user: person }),
  fc.record({ op: fc.constant("leave" as const), actor: person, group: groupPick }),
  fc.record({
    op: fc.constant("setRole" as const),
    actor: person,
    group: groupPick,
    user: person,
    role: fc.constantFrom("owner" as const, "admin" as const, "member" as const),
  }),
);
type GroupOp = typeof groupOp extends fc.Arbitrary<infer T> ? T : never;

describe.each(testDrivers)("sync.since (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let deps: GroupDeps;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    realtime = await startTestSoketi();
    deps = { publisher: realtime.publisher };
  });
  afterAll(async () => {
    await realtime?.soketi.stop();
    await handle?.close();
  });

  /** Runs one random group operation; the ones the rules refuse are part of the model, not failures. */
  async function run(op: GroupOp, people: Persona[], groups: string[]): Promise<void> {
    const actor = people[op.actor].id;
    try {
      if (op.op === "create") {
        const created = await createGroup(
          db,
          actor,
          { name: op.name, memberIds: op.with.map((i) => people[i].id) },
          deps,
        );
        groups.push(created.id);
        return;
      }
      if (groups.length === 0) return;
      const conversationId = groups[op.group % groups.length];
      if (op.op === "rename") await updateGroup(db, actor, { conversationId, name: op.name }, deps);
      if (op.op === "announce") await updateGroup(db, actor, { conversationId, announcement: op.text }, deps);
      if (op.op === "add")
        await addMembers(db, actor, { conversationId, userIds: op.users.map((i) => people[i].id) }, deps);
      if (op.op === "remove") await removeMember(db, actor, { conversationId, userId: people[op.user].id }, deps);
      if (op.op === "leave") await leaveGroup(db, actor, { conversationId }, deps);
      if (op.op === "setRole")
        await setRole(db, actor, { conversationId, userId: people[op.user].id, role: op.role }, deps);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
    }
  }

  it("a client that applies every delta from ANY earlier version ends equal to the server's state", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(groupOp, { minLength: 1, maxLength: 12 }), async (ops) => {
        const people = await Promise.all(["alice", "bob", "carol", "dave"].map((n) => createPersona(db, n)));
        const groups: string[] = [];
        // Per person: the client that syncs after every change, and every state it passed through.
        const live = people.map(() => ({ state: {} as ClientState, version: 0 }));
        const checkpoints = people.map(() => [{ state: {} as ClientState, version: 0 }]);
        for (const op of ops) {
          await run(op, people, groups);
          for (const [i, p] of people.entries()) {
            const delta = await syncSince(db, p.id, live[i].version);
            expect(delta.version).toBeGreaterThanOrEqual(live[i].version);
            live[i] = { state: applyDelta(live[i].state, delta), version: delta.version };
            expect(live[i].state).toEqual(await serverState(db, p.id));
            checkpoints[i].push(live[i]);
          }
        }
        for (const [i, p] of people.entries()) {
          const truth = await serverState(db, p.id);
          for (const from of checkpoints[i]) {
            const caughtUp = applyDelta(from.state, await syncSince(db, p.id, from.version));
            expect(caughtUp).toEqual(truth);
          }
        }
      }),
      { numRuns: 10 },
    );
  });

  it("answers 'nothing changed' from the caller's own users row alone: one query, whatever their number of groups", async () => {
    const alice = await createPersona(db, "alice");
    const bob = await createPersona(db, "bob");
    const groupIds: string[] = [];
    for (let i = 0; i < 25; i++) {
      groupIds.push((await createGroup(db, alice.id, { name: `Group ${i}`, memberIds: [bob.id] }, deps)).id);
    }
    const { version } = await syncSince(db, alice.id, 0);

    const queries: string[] = [];
    const logger = { logQuery: (query: string) => queries.push(query) };
    const client = (db as unknown as { $client: unknown }).$client;
    const observed =
      driver === "pglite"
        ? (await import("drizzle-orm/pglite")).drizzle(client as never, { schema, logger })
        : (await import("drizzle-orm/postgres-js")).drizzle(client as never, { schema, logger });

    const delta = await syncSince(observed as unknown as Db, alice.id, version);
    expect(delta).toEqual({ version, groups: [], members: [], removed: [] });
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/from "users"/);
    expect(queries[0]).not.toMatch(/members|conversations/);

    // Something changed: then, and only then, the groups are read.
    const renamed = await updateGroup(db, alice.id, { conversationId: groupIds[7], name: "Renamed" }, deps);
    queries.length = 0;
    const changed = await syncSince(observed as unknown as Db, alice.id, version);
    expect(changed.version).toBe(renamed.version);
    expect(changed.groups.map((g) => g.id)).toEqual([groupIds[7]]);
    expect(queries.length).toBeGreaterThan(1);
  });

  it("returns only what changed after the version asked for, and the removal of a member to the removed one", async () => {
    const alice = await createPersona(db, "alice");
    const bob = await createPersona(db, "bob");
    const carol = await createPersona(db, "carol");
    const group = await createGroup(db, alice.id, { name: "Delta", memberIds: [bob.id, carol.id] }, deps);
    const bobAt = (await syncSince(db, bob.id, 0)).version;

    const renamed = await updateGroup(db, alice.id, { conversationId: group.id, name: "Delta 2" }, deps);
    const bobsDelta = await syncSince(db, bob.id, bobAt);
    expect(bobsDelta.version).toBe(renamed.version);
    expect(bobsDelta.groups).toEqual([expect.objectContaining({ id: group.id, name: "Delta 2", membersReset: false })]);
    expect(bobsDelta.members).toEqual([]);

    const removal = await removeMember(db, alice.id, { conversationId: group.id, userId: carol.id }, deps);
    const afterRemoval = await syncSince(db, bob.id, bobsDelta.version);
    expect(afterRemoval.members).toEqual([
      expect.objectContaining({ userId: carol.id, version: removal.version, leftAt: expect.any(String) }),
    ]);
    const carolsDelta = await syncSince(db, carol.id, bobsDelta.version);
    expect(carolsDelta).toMatchObject({ version: removal.version, groups: [], removed: [group.id] });

    // Changes after carol left are no longer hers to know.
    await updateGroup(db, alice.id, { conversationId: group.id, name: "Delta 3" }, deps);
    expect(await syncSince(db, carol.id, carolsDelta.version)).toEqual({
      version: carolsDelta.version,
      groups: [],
      members: [],
      removed: [],
    });
  });

  it("refuses a negative or non-integer version with BAD_REQUEST", async () => {
    const alice = await createPersona(db, "alice");
    for (const version of [-1, 1.5, "3"]) {
      await expect(callerFor(db, alice).sync.since({ version } as { version: number })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    await expect(callerFor(db, null).sync.since({ version: 0 })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
