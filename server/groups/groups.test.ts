import { and, asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { conversations, members, messages, users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { callerFor, createPersona, type Persona } from "../testing/personas";
import { createGroup } from "./info";
import { addMembers } from "./membership";
import { recordingPublisher } from "../testing/publisher";

/** Everything a group change could write: nothing of it may move when a change is refused. */
async function footprint(db: Db) {
  const [row] = await queryRows<Record<string, string | number>>(
    db,
    sql`select (select count(*) from conversations) as conversations,
               (select count(*) from members) as members,
               (select count(*) from messages) as messages,
               (select count(*) from outbox) as outbox,
               (select coalesce(sum(version), 0) from conversations) as group_versions,
               (select coalesce(sum(version), 0) from members) as member_versions,
               (select count(*) from members where left_at is not null) as tombstones,
               (select coalesce(sum(sync_version), 0) from users) as sync_versions,
               (select string_agg(role, ',' order by conversation_id, user_id) from members) as roles`,
  );
  return row;
}

async function memberRow(db: Db, conversationId: string, userId: string) {
  const [row] = await db
    .select()
    .from(members)
    .where(and(eq(members.conversationId, conversationId), eq(members.userId, userId)));
  return row;
}

async function groupRow(db: Db, conversationId: string) {
  const [row] = await db.select().from(conversations).where(eq(conversations.id, conversationId));
  return row;
}

async function systemMessages(db: Db, conversationId: string) {
  return db
    .select({ seq: messages.seq, body: messages.body, meta: messages.meta, kind: messages.kind })
    .from(messages)
    .where(eq(messages.conversationId, conversationId))
    .orderBy(asc(messages.seq));
}

async function syncVersionOf(db: Db, userId: string) {
  const [row] = await db.select({ v: users.syncVersion }).from(users).where(eq(users.id, userId));
  return row.v;
}

describe.each(testDrivers)("groups (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let dave: Persona;
  let outsider: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    alice = await createPersona(db, "alice");
    bob = await createPersona(db, "bob");
    carol = await createPersona(db, "carol");
    dave = await createPersona(db, "dave");
    outsider = await createPersona(db, "outsider");
  });
  afterAll(async () => {
    await handle?.close();
  });

  const as = (p: Persona) => callerFor(db, p);
  const newGroup = (name = "Launch team", memberIds = [bob.id, carol.id]) =>
    as(alice).group.create({ name, memberIds });

  it("alice creates a group: she owns it, bob and carol are members from seq 0, and the stream opens with the creation", async () => {
    const group = await newGroup();
    expect(group.id).toBe(group.conversationId);
    expect(group).toMatchObject({ name: "Launch team", memberCount: 3, createdBy: alice.id });
    const rows = await db.select().from(members).where(eq(members.conversationId, group.id));
    expect(Object.fromEntries(rows.map((r) => [r.userId, r.role]))).toEqual({
      [alice.id]: "owner",
      [bob.id]: "member",
      [carol.id]: "member",
    });
    expect(rows.every((r) => r.joinedSeq === 0 && r.version === group.version)).toBe(true);
    const stream = await systemMessages(db, group.id);
    expect(stream).toHaveLength(1);
    expect(stream[0]).toMatchObject({ seq: 1, kind: "system", body: 'Alice created the group "Launch team"' });
    expect(stream[0].meta).toMatchObject({ type: "group_created", actorId: alice.id, count: 2 });
    for (const p of [alice, bob, carol]) expect(await syncVersionOf(db, p.id)).toBeGreaterThanOrEqual(group.version);
    const bobsView = await as(bob).group.get({ conversationId: group.id });
    expect(bobsView).toMatchObject({ name: "Launch team", myRole: "member", memberCount: 3 });
  });

  it("refuses a bad group name, a too-long announcement, an unknown person and a signed-out caller, writing nothing", async () => {
    const before = await footprint(db);
    await expect(as(alice).group.create({ name: "   ", memberIds: [] })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(as(alice).group.create({ name: "x".repeat(101), memberIds: [] })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      as(alice).group.create({ name: "Team", memberIds: [bob.id], announcement: "a".repeat(2001) }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      as(alice).group.create({ name: "Team", memberIds: ["00000000-0000-4000-8000-000000000000"] }),
    ).rejects.toMatchObject({ code: "NOT_FOUND", message: "That person does not exist" });
    await expect(as(alice).group.create({ name: "Team", memberIds: ["not-a-uuid"] })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(callerFor(db, null).group.create({ name: "Team", memberIds: [] })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    expect(await footprint(db)).toEqual(before);
  });

  it("alice renames the group and sets an announcement: one version, one system message per change, members' sync_version raised", async () => {
    const group = await newGroup();
    const result = await as(alice).group.update({
      conversationId: group.id,
      name: "Launch crew",
      announcement: "Standup at 10:30",
    });
    expect(result.version).toBeGreaterThan(group.version);
    expect(result.group).toMatchObject({
      name: "Launch crew",
      announcement: "Standup at 10:30",
      version: result.version,
    });
    const stream = await systemMessages(db, group.id);
    expect(stream.slice(1).map((m) => m.body)).toEqual([
      'Alice renamed the group to "Launch crew"',
      "Alice changed the announcement",
    ]);
    expect(stream.slice(1).map((m) => (m.meta as { type: string }).type)).toEqual(["renamed", "announcement_changed"]);
    for (const p of [alice, bob, carol]) expect(await syncVersionOf(db, p.id)).toBeGreaterThanOrEqual(result.version);

    const before = await footprint(db);
    const again = await as(alice).group.update({ conversationId: group.id, name: "Launch crew" });
    expect(again.version).toBe(result.version);
    expect(await footprint(db)).toEqual(before);
  });

  it("an admin sets and removes the group photo and clears the announcement with an empty one", async () => {
    const group = await as(alice).group.create({ name: "Photos", memberIds: [bob.id], announcement: "Hello" });
    await as(alice).group.setRole({ conversationId: group.id, userId: bob.id, role: "admin" });
    const withPhoto = await as(bob).group.update({ conversationId: group.id, avatarUrl: "https://example.com/g.png" });
    expect(withPhoto.group.avatarUrl).toBe("https://example.com/g.png");
    const cleared = await as(bob).group.update({ conversationId: group.id, avatarUrl: null, announcement: "" });
    expect(cleared.group).toMatchObject({ avatarUrl: null, announcement: null });
    const bodies = (await systemMessages(db, group.id)).map((m) => m.body);
    expect(bodies.slice(-3)).toEqual([
      "Bob changed the group photo",
      "Bob removed the group photo",
      "Bob removed the announcement",
    ]);
    const before = await footprint(db);
    await expect(
      as(bob).group.update({ conversationId: group.id, avatarUrl: "javascript:alert(1)" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(as(bob).group.update({ conversationId: group.id })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await footprint(db)).toEqual(before);
  });

  it("a plain member cannot change the group info or its members; nothing is written", async () => {
    const group = await newGroup();
    const before = await footprint(db);
    const bobs = as(bob).group;
    await expect(bobs.update({ conversationId: group.id, name: "Bob's" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(bobs.addMembers({ conversationId: group.id, userIds: [dave.id] })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(bobs.removeMember({ conversationId: group.id, userId: carol.id })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(bobs.setRole({ conversationId: group.id, userId: carol.id, role: "admin" })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await footprint(db)).toEqual(before);
  });

  it("an outsider is not told anything about a group and cannot change it", async () => {
    const group = await newGroup();
    const before = await footprint(db);
    const theirs = as(outsider).group;
    const conversationId = group.id;
    const attempts = [
      () => theirs.get({ conversationId }),
      () => theirs.members({ conversationId }),
      () => theirs.update({ conversationId, name: "Mine now" }),
      () => theirs.addMembers({ conversationId, userIds: [outsider.id] }),
      () => theirs.removeMember({ conversationId, userId: bob.id }),
      () => theirs.setRole({ conversationId, userId: outsider.id, role: "owner" }),
      () => theirs.leave({ conversationId }),
    ];
    for (const attempt of attempts) {
      await expect(attempt()).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
    await expect(theirs.get({ conversationId: "00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const delta = await as(outsider).sync.since({ version: 0 });
    expect(delta.groups.map((g) => g.id)).not.toContain(group.id);
    expect(await footprint(db)).toEqual(before);
  });

  it("dave, added later, sees history from his join on; adding people already in the group writes nothing", async () => {
    const group = await newGroup();
    await as(bob).message.send({ conversationId: group.id, clientMsgId: "before-dave", body: "before dave joined" });
    const { lastSeq } = await groupRow(db, group.id);
    const added = await as(alice).group.addMembers({ conversationId: group.id, userIds: [dave.id, bob.id] });
    expect(added.added).toBe(1);
    const daveRow = await memberRow(db, group.id, dave.id);
    expect(daveRow).toMatchObject({ role: "member", joinedSeq: lastSeq, readSeq: lastSeq, version: added.version });
    expect((await groupRow(db, group.id)).memberCount).toBe(4);
    const history = await as(dave).message.history({ conversationId: group.id });
    expect(history.messages.map((m) => m.body)).toEqual(["Alice added Dave"]);
    expect(history.messages[0].meta).toMatchObject({ type: "member_added", userIds: [dave.id], count: 1 });

    const before = await footprint(db);
    const again = await as(alice).group.addMembers({ conversationId: group.id, userIds: [dave.id, bob.id] });
    expect(again).toEqual({ version: added.version, added: 0 });
    expect(await footprint(db)).toEqual(before);

    await expect(
      as(alice).group.addMembers({ conversationId: group.id, userIds: ["00000000-0000-4000-8000-000000000000"] }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await footprint(db)).toEqual(before);
  });

  it("a removed member keeps history up to the removal, loses the rest, learns of it through sync, and can be added back", async () => {
    const group = await newGroup();
    const bobBefore = await syncVersionOf(db, bob.id);
    const removed = await as(alice).group.removeMember({ conversationId: group.id, userId: bob.id });
    const tombstone = await memberRow(db, group.id, bob.id);
    const stream = await systemMessages(db, group.id);
    const removal = stream[stream.length - 1];
    expect(removal).toMatchObject({ body: "Alice removed Bob", meta: { type: "member_removed", userId: bob.id } });
    expect(tombstone.leftAt).not.toBeNull();
    expect(tombstone).toMatchObject({ leftSeq: removal.seq, version: removed.version });
    expect((await groupRow(db, group.id)).memberCount).toBe(2);
    expect(await syncVersionOf(db, bob.id)).toBeGreaterThan(bobBefore);

    await as(alice).message.send({ conversationId: group.id, clientMsgId: "after-bob", body: "bob is gone" });
    const bobsHistory = await as(bob).message.history({ conversationId: group.id });
    const bobSees = [...bobsHistory.messages].sort((a, b) => a.seq - b.seq).map((m) => m.body);
    expect(bobSees).toEqual([stream[0].body, "Alice removed Bob"]);
    await expect(as(bob).group.members({ conversationId: group.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      as(bob).message.send({ conversationId: group.id, clientMsgId: "bob-still-here", body: "hello?" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    const bobsDelta = await as(bob).sync.since({ version: bobBefore });
    expect(bobsDelta.removed).toEqual([group.id]);
    expect(bobsDelta.groups).toEqual([]);

    const back = await as(alice).group.addMembers({ conversationId: group.id, userIds: [bob.id] });
    const revived = await memberRow(db, group.id, bob.id);
    expect(revived).toMatchObject({ leftAt: null, leftSeq: null, role: "member", version: back.version });
    expect(revived.joinedSeq).toBeGreaterThan(removal.seq);
    const [{ rows }] = await queryRows<{ rows: number }>(
      db,
      sql`select count(*)::int as rows from members where conversation_id = ${group.id} and user_id = ${bob.id}`,
    );
    expect(rows).toBe(1);
  });

  it("admins manage members, only the owner makes admins or removes them, and the owner cannot be removed", async () => {
    const group = await as(alice).group.create({ name: "Roles", memberIds: [bob.id, carol.id, dave.id] });
    const conversationId = group.id;
    await as(alice).group.setRole({ conversationId, userId: bob.id, role: "admin" });
    expect((await memberRow(db, conversationId, bob.id)).role).toBe("admin");

    await expect(as(bob).group.setRole({ conversationId, userId: carol.id, role: "admin" })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Only the owner can change roles",
    });
    await as(bob).group.update({ conversationId, name: "Roles, renamed by an admin" });
    await as(bob).group.removeMember({ conversationId, userId: dave.id });
    await as(bob).group.addMembers({ conversationId, userIds: [dave.id] });
    await expect(as(bob).group.removeMember({ conversationId, userId: alice.id })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "The owner cannot be removed",
    });
    await as(alice).group.setRole({ conversationId, userId: carol.id, role: "admin" });
    await expect(as(bob).group.removeMember({ conversationId, userId: carol.id })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Only the owner can remove an admin",
    });
    await expect(as(alice).group.removeMember({ conversationId, userId: alice.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(as(alice).group.setRole({ conversationId, userId: alice.id, role: "member" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });

    await as(carol).group.setRole({ conversationId, userId: carol.id, role: "member" });
    expect((await memberRow(db, conversationId, carol.id)).role).toBe("member");

    const handover = await as(alice).group.setRole({ conversationId, userId: bob.id, role: "owner" });
    expect((await memberRow(db, conversationId, bob.id)).role).toBe("owner");
    expect(await memberRow(db, conversationId, alice.id)).toMatchObject({ role: "admin", version: handover.version });
    const bodies = (await systemMessages(db, conversationId)).map((m) => m.body);
    expect(bodies).toContain("Alice made Bob an admin");
    expect(bodies).toContain("Carol is no longer an admin");
    expect(bodies).toContain("Alice made Bob the owner");
  });

  it("an owner who leaves hands the group to the longest-standing admin, else member; the last one out archives it", async () => {
    const group = await as(alice).group.create({ name: "Leaving", memberIds: [bob.id, carol.id] });
    const conversationId = group.id;
    await as(alice).group.addMembers({ conversationId, userIds: [dave.id] });
    await as(alice).group.setRole({ conversationId, userId: dave.id, role: "admin" });

    const first = await as(alice).group.leave({ conversationId });
    expect(first).toMatchObject({ archived: false, newOwnerId: dave.id });
    expect((await memberRow(db, conversationId, dave.id)).role).toBe("owner");

    const second = await as(dave).group.leave({ conversationId });
    // No admin left: bob and carol joined together; the tie is broken by id.
    const [longest] = [bob.id, carol.id].sort();
    expect(second.newOwnerId).toBe(longest);
    const last = longest === bob.id ? carol : bob;
    await as(longest === bob.id ? bob : carol).group.leave({ conversationId });
    const out = await as(last).group.leave({ conversationId });
    expect(out).toMatchObject({ archived: true, newOwnerId: null });
    const row = await groupRow(db, conversationId);
    expect(row.archivedAt).not.toBeNull();
    expect(row.memberCount).toBe(0);
    const bodies = (await systemMessages(db, conversationId)).map((m) => m.body);
    expect(bodies).toContain("Alice left");
    expect(bodies).toContain("Dave is now the owner");
  });

  it("the member limit is a clear error on create and on add, and nothing is written", async () => {
    const limits = { memberLimit: 3, publisher: recordingPublisher() };
    const before = await footprint(db);
    await expect(
      createGroup(db, alice.id, { name: "Too big", memberIds: [bob.id, carol.id, dave.id] }, limits),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "A group can have at most 3 members; only 2 more can join",
    });
    expect(await footprint(db)).toEqual(before);
    const group = await createGroup(db, alice.id, { name: "Just right", memberIds: [bob.id, carol.id] }, limits);
    const full = await footprint(db);
    await expect(
      addMembers(db, alice.id, { conversationId: group.id, userIds: [dave.id] }, limits),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "A group can have at most 3 members; this group is full",
    });
    expect(await footprint(db)).toEqual(full);
  });

  it("group.members lists current members, owner and admins first, in pages", async () => {
    const group = await as(alice).group.create({ name: "Roster", memberIds: [bob.id, carol.id, dave.id] });
    await as(alice).group.setRole({ conversationId: group.id, userId: dave.id, role: "admin" });
    await as(alice).group.removeMember({ conversationId: group.id, userId: carol.id });
    const first = await as(bob).group.members({ conversationId: group.id, limit: 2 });
    expect(first.items.map((m) => [m.displayName, m.role])).toEqual([
      ["Alice", "owner"],
      ["Dave", "admin"],
    ]);
    expect(first.total).toBe(3);
    expect(first.nextCursor).not.toBeNull();
    const second = await as(bob).group.members({ conversationId: group.id, limit: 2, cursor: first.nextCursor });
    expect(second.items.map((m) => [m.displayName, m.role, m.username])).toEqual([["Bob", "member", bob.username]]);
    expect(second.nextCursor).toBeNull();
    await expect(as(bob).group.members({ conversationId: group.id, cursor: "garbage" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });

  it("group changes on a direct conversation are refused", async () => {
    const [dm] = await db
      .insert(conversations)
      .values({ kind: "dm", dmKey: `${alice.id}:${bob.id}` })
      .returning();
    await db.insert(members).values([
      { conversationId: dm.id, userId: alice.id },
      { conversationId: dm.id, userId: bob.id },
    ]);
    const before = await footprint(db);
    await expect(as(alice).group.addMembers({ conversationId: dm.id, userIds: [carol.id] })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(as(alice).group.update({ conversationId: dm.id, name: "Not a group" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await footprint(db)).toEqual(before);
  });
});
