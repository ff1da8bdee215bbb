import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversations, members } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { createGroup, updateGroup } from "../groups/info";
import { addMembers, removeMember } from "../groups/membership";
import type { GroupDeps } from "../groups/rules";
import { createPersona, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { type SyncDelta, syncSince } from "./since";

type Held = Record<string, { name: string; version: number; members: Record<string, string> }>;

function apply(state: Held, delta: SyncDelta): Held {
  const next: Held = structuredClone(state);
  for (const id of delta.removed) delete next[id];
  for (const g of delta.groups) {
    next[g.id] = { name: g.name, version: g.version, members: g.membersReset || !next[g.id] ? {} : next[g.id].members };
  }
  for (const m of delta.members) {
    if (m.leftAt) delete next[m.conversationId].members[m.userId];
    else next[m.conversationId].members[m.userId] = m.role;
  }
  return next;
}

async function truth(db: Db, userId: string): Promise<Held> {
  const mine = await db
    .select({ c: conversations })
    .from(members)
    .innerJoin(conversations, eq(conversations.id, members.conversationId))
    .where(and(eq(members.userId, userId), isNull(members.leftAt)));
  const state: Held = {};
  for (const { c } of mine) {
    const rows = await db
      .select({ userId: members.userId, role: members.role })
      .from(members)
      .where(and(eq(members.conversationId, c.id), isNull(members.leftAt)));
    state[c.id] = {
      name: c.name ?? "",
      version: c.version,
      members: Object.fromEntries(rows.map((r) => [r.userId, r.role])),
    };
  }
  return state;
}

describe.each(testDrivers)("concurrent group changes (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let deps: GroupDeps;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let dave: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver, { maxConnections: 10 });
    db = handle.db;
    realtime = await startTestSoketi();
    deps = { publisher: realtime.publisher };
    [alice, bob, carol, dave] = await Promise.all(["alice", "bob", "carol", "dave"].map((n) => createPersona(db, n)));
  });
  afterAll(async () => {
    await realtime?.soketi.stop();
    await handle?.close();
  });

  it("changes to several groups sharing members, made at once, neither deadlock nor slip past a client syncing meanwhile", async () => {
    const groups = [];
    for (let i = 0; i < 4; i++) {
      groups.push(await createGroup(db, alice.id, { name: `G${i}`, memberIds: [bob.id, carol.id] }, deps));
    }
    const seen: { state: Held; version: number }[] = [{ state: {}, version: 0 }];
    let done = false;
    const poller = (async () => {
      let current = seen[0];
      while (!done) {
        // Let the changes' transactions in: PGlite runs one statement at a time.
        await new Promise((resolve) => setImmediate(resolve));
        const delta = await syncSince(db, bob.id, current.version);
        current = { state: apply(current.state, delta), version: delta.version };
        seen.push(current);
      }
    })();

    await Promise.all(
      groups.flatMap((g, i) => [
        updateGroup(db, alice.id, { conversationId: g.id, name: `G${i} renamed` }, deps),
        addMembers(db, alice.id, { conversationId: g.id, userIds: [dave.id] }, deps),
        updateGroup(db, alice.id, { conversationId: g.id, announcement: `news ${i}` }, deps),
        removeMember(db, alice.id, { conversationId: g.id, userId: carol.id }, deps),
      ]),
    );
    done = true;
    await poller;

    const final = await truth(db, bob.id);
    expect(Object.keys(final)).toHaveLength(4);
    for (const from of seen) {
      expect(apply(from.state, await syncSince(db, bob.id, from.version))).toEqual(final);
    }
    // Versions the poller saw only ever grew.
    const versions = seen.map((s) => s.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });
});
