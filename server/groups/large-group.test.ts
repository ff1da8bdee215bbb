import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flushPublished } from "../realtime/announce";
import { queryRows } from "@/db/client";
import { conversations, outbox } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { appendMessage } from "../messaging/append";
import { createPersona, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { syncSince } from "../sync/since";
import { createGroup, updateGroup } from "./info";
import { addMembers, removeMember } from "./membership";
import type { GroupDeps } from "./rules";

const BIG = 10_000;

/** Rows inserted, updated and deleted so far by the current transaction, over all tables. */
async function rowsWrittenInTransaction(tx: Parameters<Parameters<Db["transaction"]>[0]>[0]): Promise<number> {
  const [row] = await queryRows<{ n: string | number }>(
    tx,
    sql`select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) as n from pg_stat_xact_user_tables`,
  );
  return Number(row.n);
}

async function rowsWrittenBySend(db: Db, conversationId: string, senderId: string): Promise<number> {
  return db.transaction(async (tx) => {
    const before = await rowsWrittenInTransaction(tx);
    await appendMessage(tx, { conversationId, senderId, kind: "text", body: "hello everyone" });
    return (await rowsWrittenInTransaction(tx)) - before;
  });
}

describe.each(testDrivers)("a 10,000-member group (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let deps: GroupDeps;
  let alice: Persona;
  let bob: Persona;
  let dave: Persona;
  let erin: Persona;
  let groupId: string;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    realtime = await startTestSoketi();
    deps = { publisher: realtime.publisher };
    alice = await createPersona(db, "alice");
    bob = await createPersona(db, "bob");
    dave = await createPersona(db, "dave");
    erin = await createPersona(db, "erin");
    const group = await createGroup(db, alice.id, { name: "Everyone", memberIds: [bob.id] }, deps);
    groupId = group.id;
    // Everyone else arrives in one statement each: users, then their member rows (alice, bob and 9,997 others).
    await db.execute(sql`
      insert into users (username, display_name, password_hash)
      select 'crowd_' || ${groupId.slice(0, 8)} || '_' || g, 'Crowd ' || g, 'not-a-real-hash'
      from generate_series(1, ${BIG - 3}) as g`);
    await db.execute(sql`
      insert into members (conversation_id, user_id, role, version)
      select ${groupId}, id, 'member', ${group.version} from users
      where username like ${`crowd_${groupId.slice(0, 8)}_%`}`);
    await db
      .update(conversations)
      .set({ memberCount: sql`(select count(*)::int from members where conversation_id = ${groupId})` })
      .where(eq(conversations.id, groupId));
  });
  afterAll(async () => {
    await realtime?.soketi.stop();
    await handle?.close();
  });

  it("has 9,999 members to start with", async () => {
    const [row] = await db.select().from(conversations).where(eq(conversations.id, groupId));
    expect(row.memberCount).toBe(BIG - 1);
  });

  it("is renamed: every member's sync_version rises in one statement and one sync hint reaches all their channels", async () => {
    const renamed = await updateGroup(db, alice.id, { conversationId: groupId, name: "Everyone, renamed" }, deps);
    const [raised] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from users u join members m on m.user_id = u.id
          where m.conversation_id = ${groupId} and u.sync_version >= ${renamed.version}`,
    );
    expect(raised.n).toBe(BIG - 1);
    await flushPublished(db);
    const hints = await db.select().from(outbox).where(eq(outbox.event, "sync"));
    const hint = hints.find((h) => (h.payload as { version: number }).version === renamed.version);
    expect(hint?.channels).toHaveLength(BIG - 1);
    // Published after commit in triggers of 100 channels.
    expect(hint?.processedAt).not.toBeNull();
    const bobsDelta = await syncSince(db, bob.id, renamed.version - 1);
    expect(bobsDelta.groups).toEqual([expect.objectContaining({ name: "Everyone, renamed", memberCount: BIG - 1 })]);
    expect(bobsDelta.members).toEqual([]);
  });

  it("takes dave as its 10,000th member, then refuses erin: the group is full", async () => {
    const added = await addMembers(db, alice.id, { conversationId: groupId, userIds: [dave.id] }, deps);
    expect(added.added).toBe(1);
    const davesDelta = await syncSince(db, dave.id, 0);
    expect(davesDelta.groups).toEqual([expect.objectContaining({ id: groupId, memberCount: BIG, membersReset: true })]);
    expect(davesDelta.members).toHaveLength(BIG);
    await expect(addMembers(db, alice.id, { conversationId: groupId, userIds: [erin.id] }, deps)).rejects.toMatchObject(
      {
        code: "BAD_REQUEST",
        message: "A group can have at most 10,000 members; this group is full",
      },
    );
  });

  it("removes a member, and the others' delta carries just that tombstone", async () => {
    const [before] = await db.select().from(conversations).where(eq(conversations.id, groupId));
    const removed = await removeMember(db, alice.id, { conversationId: groupId, userId: dave.id }, deps);
    const bobsDelta = await syncSince(db, bob.id, before.version);
    expect(bobsDelta.members).toEqual([
      expect.objectContaining({ userId: dave.id, leftAt: expect.any(String), version: removed.version }),
    ]);
    expect(bobsDelta.groups[0].memberCount).toBe(BIG - 1);
  });

  it("writes the same number of rows for a message as a two-member group does", async () => {
    const small = await createGroup(db, alice.id, { name: "Two of us", memberIds: [bob.id] }, deps);
    const inSmall = await rowsWrittenBySend(db, small.id, alice.id);
    const inBig = await rowsWrittenBySend(db, groupId, alice.id);
    expect(inSmall).toBeGreaterThan(0);
    expect(inBig).toBe(inSmall);
  });
});
