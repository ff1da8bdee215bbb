import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { members } from "@/db/schema";
import { type TestDb, testDrivers } from "@/db/testing";
import { conversationChannel, userChannel } from "../realtime/channels";
import type { RealtimeEvents } from "../realtime/events";
import { seedGroup, tableCounts } from "../testing/conversations";
import { footprint } from "../testing/footprint";
import { messagingSuite } from "../testing/messaging-suite";
import type { Persona } from "../testing/personas";
import { positionsOf, rowsWrittenBy, say } from "../testing/read-state";
import { connectAs, nextEvent, subscribed } from "../testing/realtime";
import { unreadOf } from "./unread";

describe.each(testDrivers)("replies, mark unread and catching up on changes (%s)", (driver) => {
  const suite = messagingSuite(driver, "alice", "bob", "carol", "outsider");
  const { api, send, connect } = suite;
  let handle: TestDb;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  beforeAll(() => {
    handle = suite.handle;
    [alice, bob, carol, outsider] = suite.personas;
  });

  describe("replies", () => {
    it("carries a preview of the original, live and in history, and a tombstone once it is deleted", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const original = await send(alice, group, "Who brings the cake?");
      const bobsWindow = await connect(bob, conversationChannel(group));
      const live = nextEvent<RealtimeEvents["message.new"]>(bobsWindow, conversationChannel(group), "message.new");
      const reply = await send(bob, group, "I do", original.seq);
      const preview = { seq: original.seq, senderName: "Alice", preview: "Who brings the cake?", deleted: false };
      expect(await live).toMatchObject({ seq: reply.seq, body: "I do", replyTo: preview });
      const page = await api(alice).message.history({ conversationId: group });
      expect(page.messages.find((m) => m.seq === reply.seq)?.replyTo).toEqual(preview);
      expect(page.messages.find((m) => m.seq === original.seq)?.replyTo).toBeNull();

      await api(alice).message.delete({ conversationId: group, seq: original.seq });
      const after = await api(bob).message.history({ conversationId: group });
      expect(after.messages.find((m) => m.seq === reply.seq)?.replyTo).toEqual({
        seq: original.seq,
        senderName: null,
        preview: null,
        deleted: true,
      });
    });

    it("writes the same rows for a reply as for any message", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const { seq } = await send(alice, group, "first");
      const plain = await rowsWrittenBy(handle.db, () => send(bob, group, "plain"));
      const reply = await rowsWrittenBy(handle.db, () => send(bob, group, "a reply", seq));
      expect(reply).toEqual(plain);
    });

    it("refuses a reply to a message outside the sender's visible history, writing nothing", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const [early] = await say(handle.db, group, alice, ["before carol joined"]);
      await handle.db.insert(members).values({ conversationId: group, userId: carol.id, joinedSeq: early });
      const before = await tableCounts(handle.db);
      await expect(send(carol, group, "replying to the past", early)).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(send(carol, group, "replying to the future", 99)).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(send(outsider, group, "not mine", early)).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(
        api(carol).message.send({ conversationId: group, clientMsgId: "r-1", body: "x", replyToSeq: -1 }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await tableCounts(handle.db)).toEqual(before);
      // A reply inside her window goes through.
      const { seq } = await send(alice, group, "welcome carol");
      await expect(send(carol, group, "thanks", seq)).resolves.toMatchObject({ body: "thanks" });
    });
  });

  describe("message.markUnread", () => {
    it("moves the read position back on purpose and tells the caller's other devices", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const seqs = await say(handle.db, group, alice, ["a", "b", "c", "d"]);
      await api(bob).message.markRead({ conversationId: group, seq: seqs[3] });
      const phone = await connect(bob, userChannel(bob.id));
      const told = nextEvent<RealtimeEvents["read.changed"]>(phone, userChannel(bob.id), "read.changed");
      expect(await api(bob).message.markUnread({ conversationId: group, seq: seqs[2] })).toEqual({
        readSeq: seqs[1],
        moved: true,
      });
      expect(await told).toEqual({ conversationId: group, readSeq: seqs[1], back: true });
      expect((await unreadOf(handle.db, bob.id, group)).unread).toBe(2);
      // Never forward: marking a later message unread leaves the position where it is.
      expect(await api(bob).message.markUnread({ conversationId: group, seq: seqs[3] })).toEqual({
        readSeq: seqs[1],
        moved: false,
      });
      // A tombstone in the window does not count.
      await api(alice).message.delete({ conversationId: group, seq: seqs[2] });
      expect((await unreadOf(handle.db, bob.id, group)).unread).toBe(1);
    });

    it("refuses seqs outside the caller's history, outsiders and removed members, changing nothing", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const [early] = await say(handle.db, group, alice, ["a"]);
      await handle.db.insert(members).values({ conversationId: group, userId: carol.id, joinedSeq: early });
      await say(handle.db, group, alice, ["b"]);
      const before = await footprint(handle.db);
      await expect(api(bob).message.markUnread({ conversationId: group, seq: 50 })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      await expect(api(carol).message.markUnread({ conversationId: group, seq: early })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      await expect(api(outsider).message.markUnread({ conversationId: group, seq: 1 })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await handle.db.execute(
        sql`update members set left_at = now(), left_seq = 2 where conversation_id = ${group}::uuid and user_id = ${bob.id}::uuid`,
      );
      const afterRemoval = await footprint(handle.db);
      await expect(api(bob).message.markUnread({ conversationId: group, seq: 1 })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      expect(await footprint(handle.db)).toEqual(afterRemoval);
      expect(before).not.toEqual(afterRemoval);
      expect((await positionsOf(handle.db, group, carol.id)).readSeq).toBe(0);
    });
  });

  describe("message.changes", () => {
    it("returns only messages changed after the cursor, in change order, as the caller sees them", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const [one, two, three] = await say(handle.db, group, alice, ["one", "two", "three"]);
      const start = await api(bob).message.changes({ conversationId: group, since: 0 });
      expect(start).toEqual({ messages: [], cursor: 0, hasMore: false });

      await api(bob).message.react({ conversationId: group, seq: one, emoji: "👍", on: true });
      await api(alice).message.edit({ conversationId: group, seq: three, body: "three, edited" });
      await api(alice).message.delete({ conversationId: group, seq: two });
      await api(alice).message.edit({ conversationId: group, seq: three, body: "three, again" });

      const caught = await api(bob).message.changes({ conversationId: group, since: 0 });
      expect(caught.cursor).toBe(4);
      // History says how far its page is current, so a client knows where to catch up from.
      expect((await api(bob).message.history({ conversationId: group })).changeSeq).toBe(4);
      expect(caught.messages.map((m) => [m.seq, m.body, m.deletedAt !== null])).toEqual([
        [one, "one", false],
        [two, "", true],
        [three, "three, again", false],
      ]);
      expect(caught.messages[0].reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);

      const later = await api(bob).message.changes({ conversationId: group, since: 2 });
      expect(later.messages.map((m) => m.seq)).toEqual([two, three]);
      expect(await api(bob).message.changes({ conversationId: group, since: 4 })).toEqual({
        messages: [],
        cursor: 4,
        hasMore: false,
      });
    });

    it("pages a long catch-up with hasMore and a cursor that ends where the conversation is", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const seqs = await say(handle.db, group, alice, ["a", "b", "c", "d", "e"]);
      for (const seq of seqs) await api(bob).message.react({ conversationId: group, seq, emoji: "🎉", on: true });
      const seen: number[] = [];
      let since = 0;
      for (;;) {
        const page = await api(alice).message.changes({ conversationId: group, since, limit: 2 });
        seen.push(...page.messages.map((m) => m.seq));
        since = page.cursor;
        if (!page.hasMore) break;
      }
      expect(seen).toEqual(seqs);
      expect(since).toBe(5);
    });

    it("answers 'nothing changed' from the conversation row alone, and refuses a cursor from the future", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const [one] = await say(handle.db, group, alice, ["one"]);
      await api(alice).message.edit({ conversationId: group, seq: one, body: "uno" });
      // Scan the changes index to an empty result: the quick answer must not depend on it.
      await handle.db.execute(sql`update messages set change_seq = 0 where conversation_id = ${group}::uuid`);
      expect(await api(bob).message.changes({ conversationId: group, since: 1 })).toEqual({
        messages: [],
        cursor: 1,
        hasMore: false,
      });
      await expect(api(bob).message.changes({ conversationId: group, since: 2 })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      await expect(api(outsider).message.changes({ conversationId: group, since: 0 })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    });

    it("leaves out changes to history from before the caller joined", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const [early] = await say(handle.db, group, alice, ["early"]);
      await handle.db.insert(members).values({ conversationId: group, userId: carol.id, joinedSeq: early });
      await api(alice).message.edit({ conversationId: group, seq: early, body: "early, edited" });
      expect(await api(carol).message.changes({ conversationId: group, since: 0 })).toEqual({
        messages: [],
        cursor: 1,
        hasMore: false,
      });
    });
  });

  describe("message.updated", () => {
    it("reaches everyone in the conversation through Soketi, and no outsider", async () => {
      const group = await seedGroup(handle.db, alice, [bob]);
      const [seq] = await say(handle.db, group, alice, ["react to me"]);
      const bobsWindow = await connect(bob, conversationChannel(group));
      const told = nextEvent<RealtimeEvents["message.updated"]>(
        bobsWindow,
        conversationChannel(group),
        "message.updated",
      );
      const update = await api(alice).message.react({ conversationId: group, seq, emoji: "🔥", on: true });
      expect(await told).toEqual(update);
      expect(update).toMatchObject({ seq, reactions: [{ emoji: "🔥", count: 1 }], reaction: { userId: alice.id } });

      const stranger = connectAs(handle.db, suite.realtime, outsider.id);
      suite.clients.push(stranger);
      await expect(subscribed(stranger, conversationChannel(group))).rejects.toThrow(/refused/);
    });
  });
});
