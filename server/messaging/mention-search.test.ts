import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedCrowd, seedGroup, tableCounts, testSendDeps } from "../testing/conversations";
import { callerFor, createPersona, createPersonas, type Persona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";
import { useTestPublisher } from "../testing/read-state";
import { sendMessage } from "./send";

describe.each(testDrivers)("mentions people can use (%s)", (driver) => {
  let handle: TestDb;
  const publisher = recordingPublisher();
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    useTestPublisher(publisher);
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
  });
  afterAll(async () => {
    await handle.close();
  });

  const api = (who: Persona) => callerFor(handle.db, who, publisher);
  const send = (who: Persona, conversationId: string, body: string) =>
    sendMessage(handle.db, who.id, { conversationId, clientMsgId: crypto.randomUUID(), body }, testSendDeps(publisher));

  describe("member autocomplete", () => {
    it("suggests current members by username or display-name prefix, case-insensitively", async () => {
      const bobby = await createPersona(handle.db, "bobby");
      const group = await seedGroup(handle.db, alice, [bob, carol, bobby]);
      const found = await api(carol).conversation.searchMembers({ conversationId: group, query: "BOB" });
      expect(found.map((m) => m.id).sort()).toEqual([bob.id, bobby.id].sort());
      expect(found.find((m) => m.id === bob.id)).toMatchObject({ username: bob.username, role: "member" });
      // Display names match too ("Alice"), and a leading @ is ignored.
      expect(
        (await api(carol).conversation.searchMembers({ conversationId: group, query: "@ali" })).map((m) => m.id),
      ).toEqual([alice.id]);
      // Outsiders are not members, wildcards are literal.
      expect(await api(carol).conversation.searchMembers({ conversationId: group, query: "outsider" })).toEqual([]);
      expect(await api(carol).conversation.searchMembers({ conversationId: group, query: "%" })).toEqual([]);
      expect(await api(carol).conversation.searchMembers({ conversationId: group, query: "_" })).toEqual([]);
    });

    it("refuses outsiders and over-long queries", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      await expect(
        api(outsider).conversation.searchMembers({ conversationId: group, query: "a" }),
      ).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(
        api(bob).conversation.searchMembers({ conversationId: group, query: "a".repeat(33) }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });

    it("answers instantly in a 10,000-member group", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      await seedCrowd(handle.db, group, 9_998);
      await handle.db.execute(sql`analyze users`);
      await handle.db.execute(sql`analyze members`);
      const [{ username }] = (await handle.db
        .execute(
          sql`select u.username from members m join users u on u.id = m.user_id
            where m.conversation_id = ${group}::uuid and u.username like 'crowd_%' limit 1`,
        )
        .then((r) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows))) as { username: string }[];
      const prefix = username.slice(0, username.lastIndexOf("_") + 1);
      const timings: number[] = [];
      let found: { username: string }[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        found = await api(bob).conversation.searchMembers({ conversationId: group, query: `${prefix}4242`, limit: 5 });
        timings.push(performance.now() - started);
      }
      expect(found.map((m) => m.username)).toEqual([`${prefix}4242`]);
      timings.sort((a, b) => a - b);
      // The median: a shared CI machine can stall one call, not three.
      expect(timings[2]).toBeLessThan(150);
    });
  });

  describe("@all", () => {
    it("is for owners and admins only in a group larger than MENTION_ALL_MAX_MEMBERS, refused clearly and writing nothing", async () => {
      const group = await seedGroup(handle.db, alice, [bob, carol]);
      await handle.db.execute(
        sql`update members set role = 'admin' where conversation_id = ${group}::uuid and user_id = ${bob.id}::uuid`,
      );
      await seedCrowd(handle.db, group, 100);
      const before = await tableCounts(handle.db);
      await expect(send(carol, group, "@all look at this")).rejects.toMatchObject({
        code: "FORBIDDEN",
        message: "Only owners and admins can mention @all in groups of more than 100 members",
      });
      expect(await tableCounts(handle.db)).toEqual(before);
      await expect(send(carol, group, "hello @bob and all")).resolves.toMatchObject({ body: "hello @bob and all" });
      await expect(send(bob, group, "@all standup")).resolves.toMatchObject({ body: "@all standup" });
      await expect(send(alice, group, "@here too")).resolves.toMatchObject({ body: "@here too" });
      // An edit cannot smuggle it in either.
      const { seq } = await send(carol, group, "innocent");
      await expect(
        api(carol).message.edit({ conversationId: group, seq, body: "@everyone wake up" }),
      ).rejects.toMatchObject({ code: "FORBIDDEN" });
    });

    it("is anyone's in a small group", async () => {
      const group = await seedGroup(handle.db, alice, [bob, carol]);
      await expect(send(carol, group, "@all pizza")).resolves.toMatchObject({ body: "@all pizza" });
    });
  });

  describe("the mentions view", () => {
    it("lists the caller's unread mentions across conversations, newest first, without read or deleted ones", async () => {
      const dana = await createPersona(handle.db, "dana");
      const one = await seedGroup(handle.db, alice, [dana, bob], "Design");
      const two = await seedGroup(handle.db, bob, [dana], "Ops");
      const first = await send(alice, one, `@${dana.username} review please`);
      await send(bob, two, "@all deploy at 5");
      const gone = await send(bob, one, `@${dana.username} never mind`);
      await send(alice, one, `@${bob.username} not for dana`);
      const third = await send(bob, two, `thanks @${dana.username}`);
      await api(bob).message.delete({ conversationId: one, seq: gone.seq });

      const page = await api(dana).message.mentions({});
      expect(page.items.map((m) => [m.conversationName, m.preview, m.all])).toEqual([
        ["Ops", `thanks @${dana.username}`, false],
        ["Ops", "@all deploy at 5", true],
        ["Design", `@${dana.username} review please`, false],
      ]);
      expect(page.items[0]).toMatchObject({ conversationId: two, seq: third.seq, senderName: "Bob" });

      const firstPage = await api(dana).message.mentions({ limit: 2 });
      expect(firstPage.nextCursor).not.toBeNull();
      const rest = await api(dana).message.mentions({ limit: 2, cursor: firstPage.nextCursor });
      expect(rest.items.map((m) => m.seq)).toEqual([first.seq]);

      await api(dana).message.markRead({ conversationId: two, seq: third.seq });
      expect((await api(dana).message.mentions({})).items.map((m) => m.conversationId)).toEqual([one]);
      expect((await api(outsider).message.mentions({})).items).toEqual([]);
      await expect(api(dana).message.mentions({ cursor: "not-a-cursor" })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    });
  });
});
