import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedGroup, tableCounts, testSendDeps } from "../testing/conversations";
import { callerFor, createPersona, createPersonas, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { openDm } from "./direct";
import { type SendDeps, sendMessage } from "./send";

describe.each(testDrivers)("conversations (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let deps: SendDeps;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver, { maxConnections: 10 });
    realtime = await startTestSoketi();
    deps = testSendDeps(realtime.publisher, 1000);
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
  });
  afterAll(async () => {
    await realtime.soketi.stop();
    await handle.close();
  });

  const send = (who: Persona, conversationId: string, body: string) =>
    sendMessage(handle.db, who.id, { conversationId, clientMsgId: crypto.randomUUID(), body }, deps);
  const as = (who: Persona) => callerFor(handle.db, who);

  describe("opening a DM", () => {
    it("creates it once with both people as members, and returns the same one to either side", async () => {
      const first = await openDm(handle.db, alice.id, carol.id, { publisher: realtime.publisher });
      expect(first.created).toBe(true);
      const again = await as(alice).conversation.openDm({ userId: carol.id });
      const fromCarol = await as(carol).conversation.openDm({ userId: alice.id });
      expect(again.conversationId).toBe(first.conversationId);
      expect(fromCarol).toEqual({ conversationId: first.conversationId, created: false });

      const info = await as(carol).conversation.get({ conversationId: first.conversationId });
      expect(info).toMatchObject({ kind: "dm", memberCount: 2, lastSeq: 0, title: "Alice", peer: { id: alice.id } });
      expect(info.me).toMatchObject({ role: "member", joinedSeq: 0, readSeq: 0, muted: false });
    });

    it("returns the same DM to concurrent first calls", async () => {
      const dave = await createPersona(handle.db, "dave");
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          i % 2 ? openDm(handle.db, bob.id, dave.id, deps) : openDm(handle.db, dave.id, bob.id, deps),
        ),
      );
      expect(new Set(results.map((r) => r.conversationId)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const [row] = await queryRows<{ n: string }>(
        handle.db,
        sql`select count(*) as n from members where conversation_id = ${results[0].conversationId}::uuid`,
      );
      expect(Number(row.n)).toBe(2);
    });

    it("refuses a DM with yourself or with an unknown user, writing nothing", async () => {
      const before = await tableCounts(handle.db);
      await expect(as(alice).conversation.openDm({ userId: alice.id })).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringMatching(/yourself/),
      });
      await expect(as(alice).conversation.openDm({ userId: crypto.randomUUID() })).rejects.toMatchObject({
        code: "NOT_FOUND",
        message: "User not found",
      });
      await expect(as(alice).conversation.openDm({ userId: "bob" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await tableCounts(handle.db)).toEqual(before);
    });
  });

  describe("the conversation list", () => {
    it("orders by latest activity, with unread counts, last message, sender and the DM peer", async () => {
      const erin = await createPersona(handle.db, "erin");
      const frank = await createPersona(handle.db, "frank");
      const { conversationId: dm } = await openDm(handle.db, erin.id, frank.id, deps);
      const group = await seedGroup(handle.db, frank, [erin, carol], "Book club");
      await send(frank, dm, "hi erin");
      await send(frank, group, "meeting at 6");
      await send(carol, group, "see you there");

      const list = await as(erin).conversation.list({});
      expect(list.items.map((i) => i.id)).toEqual([group, dm]);
      expect(list.items[0]).toMatchObject({
        kind: "group",
        name: "Book club",
        memberCount: 3,
        lastSeq: 2,
        unread: 2,
        lastMessagePreview: "see you there",
        lastMessageSender: { id: carol.id, displayName: "Carol" },
        peer: null,
        muted: false,
      });
      expect(list.items[1]).toMatchObject({
        kind: "dm",
        unread: 1,
        peer: { id: frank.id, displayName: "Frank", username: frank.username },
      });
      expect(list.nextCursor).toBeNull();

      // A reply moves the DM up; Frank's own messages are read for him.
      await send(erin, dm, "hello frank");
      const franks = await as(frank).conversation.list({});
      expect(franks.items.map((i) => [i.id, i.unread])).toEqual([
        [dm, 1],
        [group, 1],
      ]);
    });

    it("counts unread only after the member joined", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      for (const body of ["a", "b", "c"]) await send(alice, group, body);
      const gina = await createPersona(handle.db, "gina");
      await handle.db.execute(
        sql`insert into members (conversation_id, user_id, joined_seq) values (${group}::uuid, ${gina.id}::uuid, 3)`,
      );
      await send(bob, group, "welcome gina");
      const [item] = (await as(gina).conversation.list({})).items;
      expect(item).toMatchObject({ id: group, lastSeq: 4, unread: 1 });
    });

    it("pages with a cursor through every conversation exactly once", async () => {
      const hank = await createPersona(handle.db, "hank");
      const groups = [];
      for (let i = 0; i < 7; i++) groups.push(await seedGroup(handle.db, hank, [alice], `g${i}`));
      // Two with messages, five quiet ones (ordered by creation).
      await send(alice, groups[2], "x");
      await send(alice, groups[5], "y");
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<ReturnType<typeof as>["conversation"]["list"]>> = await as(
          hank,
        ).conversation.list({
          cursor,
          limit: 3,
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([groups[5], groups[2], groups[6], groups[4], groups[3], groups[1], groups[0]]);
    });

    it("leaves out conversations the user left, and refuses a forged cursor", async () => {
      const group = await seedGroup(handle.db, carol, [outsider]);
      await handle.db.execute(
        sql`update members set left_at = now(), left_seq = 0 where conversation_id = ${group}::uuid and user_id = ${outsider.id}::uuid`,
      );
      expect((await as(outsider).conversation.list({})).items.map((i) => i.id)).not.toContain(group);
      await expect(as(outsider).conversation.list({ cursor: "garbage" })).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: "Invalid cursor",
      });
    });
  });

  describe("conversation details", () => {
    it("are for members only", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      await expect(as(outsider).conversation.get({ conversationId: group })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(as(outsider).conversation.get({ conversationId: crypto.randomUUID() })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    });

    it("show the member's own mute setting", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      await as(bob).conversation.mute({ conversationId: group, muted: true });
      expect((await as(bob).conversation.get({ conversationId: group })).me.muted).toBe(true);
      expect((await as(alice).conversation.get({ conversationId: group })).me.muted).toBe(false);
      await expect(as(outsider).conversation.mute({ conversationId: group, muted: true })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    });
  });

  describe("history", () => {
    let group: string;
    beforeAll(async () => {
      group = await seedGroup(handle.db, alice, [bob]);
      for (let i = 1; i <= 12; i++) await send(i % 2 ? alice : bob, group, `m${i}`);
    });

    it("pages newest first before a seq, with sender names and string ids", async () => {
      const latest = await as(bob).message.history({ conversationId: group, limit: 5 });
      expect(latest.messages.map((m) => m.seq)).toEqual([12, 11, 10, 9, 8]);
      expect(latest.hasMore).toBe(true);
      expect(latest.messages[0]).toMatchObject({ body: "m12", senderId: bob.id, senderName: "Bob" });
      expect(latest.messages[0].id).toMatch(/^\d+$/);
      const older = await as(bob).message.history({ conversationId: group, beforeSeq: 3 });
      expect(older).toEqual({ messages: expect.any(Array), hasMore: false, changeSeq: 0, removedThroughSeq: 0 });
      expect(older.messages.map((m) => m.seq)).toEqual([2, 1]);
    });

    it("fills a gap oldest first after a seq", async () => {
      const page = await as(alice).message.history({ conversationId: group, afterSeq: 4, limit: 3 });
      expect(page.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
      expect(page.hasMore).toBe(true);
    });

    it("never shows messages from before the member joined, nor after they left", async () => {
      const ivy = await createPersona(handle.db, "ivy");
      await handle.db.execute(
        sql`insert into members (conversation_id, user_id, joined_seq, left_at, left_seq)
            values (${group}::uuid, ${ivy.id}::uuid, 4, now(), 9)`,
      );
      const page = await as(ivy).message.history({ conversationId: group, limit: 100 });
      expect(page.messages.map((m) => m.seq)).toEqual([9, 8, 7, 6, 5]);
      expect(page.hasMore).toBe(false);
    });

    it("is refused to outsiders and for bad ranges", async () => {
      await expect(as(outsider).message.history({ conversationId: group })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(as(outsider).message.history({ conversationId: crypto.randomUUID() })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
      await expect(as(alice).message.history({ conversationId: group, limit: 101 })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      await expect(
        as(alice).message.history({ conversationId: group, beforeSeq: 5, afterSeq: 1 }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });
  });
});
