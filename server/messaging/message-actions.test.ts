import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { members } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { MAX_REACTION_EMOJI_PER_MESSAGE } from "@/lib/limits";
import { seedCrowd, seedGroup, testSendDeps } from "../testing/conversations";
import { footprint } from "../testing/footprint";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";
import { rowsWrittenBy, say, useTestPublisher } from "../testing/read-state";
import { sendMessage } from "./send";
import { unreadOf } from "./unread";

describe.each(testDrivers)("editing, deleting and reacting to messages (%s)", (driver) => {
  let handle: TestDb;
  const publisher = recordingPublisher();
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  let dave: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    useTestPublisher(publisher);
    [alice, bob, carol, outsider, dave] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider", "dave");
  });
  afterAll(async () => {
    await handle.close();
  });

  const api = (who: Persona) => callerFor(handle.db, who, publisher);
  const send = (who: Persona, conversationId: string, body: string, replyToSeq?: number) =>
    sendMessage(
      handle.db,
      who.id,
      { conversationId, clientMsgId: crypto.randomUUID(), body, replyToSeq },
      testSendDeps(publisher),
    );
  const history = async (who: Persona, conversationId: string) =>
    (await api(who).message.history({ conversationId })).messages;
  const messageAt = async (who: Persona, conversationId: string, seq: number) => {
    const found = (await history(who, conversationId)).find((m) => m.seq === seq);
    if (!found) throw new Error(`no message ${seq}`);
    return found;
  };
  const updatesFor = (conversationId: string) =>
    publisher.published.filter(
      (p) =>
        p.event === "message.updated" && (p.payload as { conversationId: string }).conversationId === conversationId,
    );
  /** A group where alice owns, bob is an admin, carol a member; dave was removed. */
  async function team() {
    const group = await seedGroup(handle.db, alice, [bob, carol, dave]);
    await handle.db.execute(
      sql`update members set role = 'admin' where conversation_id = ${group}::uuid and user_id = ${bob.id}::uuid`,
    );
    const first = await send(carol, group, "see you at 10");
    await handle.db.execute(
      sql`update members set left_at = now(), left_seq = ${first.seq}
          where conversation_id = ${group}::uuid and user_id = ${dave.id}::uuid`,
    );
    return { group, seq: first.seq };
  }

  describe("message.edit", () => {
    it("shows everyone the author's new body, marked edited, and announces it once", async () => {
      const { group, seq } = await team();
      const result = await api(carol).message.edit({ conversationId: group, seq, body: "  see you at 11 " });
      expect(result).toMatchObject({ seq, body: "see you at 11", deletedAt: null, changeSeq: 1 });
      expect(result.editedAt).not.toBeNull();
      const seen = await messageAt(alice, group, seq);
      expect(seen).toMatchObject({ body: "see you at 11", editedAt: result.editedAt, deletedAt: null });
      expect(updatesFor(group).map((p) => p.payload)).toEqual([result]);
      // The last message's preview in the list follows the edit.
      const list = await api(alice).conversation.list({});
      expect(list.items.find((c) => c.id === group)?.lastMessagePreview).toBe("see you at 11");
    });

    it("refuses anyone but the author, and changes nothing", async () => {
      const { group, seq } = await team();
      const before = await footprint(handle.db);
      for (const [who, code] of [
        [bob, "FORBIDDEN"],
        [alice, "FORBIDDEN"],
        [outsider, "FORBIDDEN"],
        [dave, "FORBIDDEN"],
      ] as const) {
        await expect(api(who).message.edit({ conversationId: group, seq, body: "hijacked" })).rejects.toMatchObject({
          code,
        });
      }
      expect(await footprint(handle.db)).toEqual(before);
    });

    it("applies the send rules to the new body and refuses system, deleted and unknown messages", async () => {
      const { group, seq } = await team();
      const [system] = await say(handle.db, group, null, ["carol changed the group name"]);
      const before = await footprint(handle.db);
      const edit = (body: string, at = seq) => api(carol).message.edit({ conversationId: group, seq: at, body });
      await expect(edit("   ")).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(edit("x".repeat(4001))).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
      await expect(edit("hello", system)).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(edit("hello", 999)).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(
        api(carol).message.edit({ conversationId: group, seq: 1.5, body: "x" } as never),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await footprint(handle.db)).toEqual(before);
      await api(carol).message.delete({ conversationId: group, seq });
      await expect(edit("back from the dead")).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: "A deleted message cannot be edited",
      });
    });

    it("answers a retried edit with the same state and writes nothing", async () => {
      const { group, seq } = await team();
      const first = await api(carol).message.edit({ conversationId: group, seq, body: "see you at 11" });
      const before = await footprint(handle.db);
      const again = await api(carol).message.edit({ conversationId: group, seq, body: "see you at 11" });
      expect(again).toEqual({ ...first, reaction: null });
      expect(await footprint(handle.db)).toEqual(before);
    });

    it("recounts mentions: a name added by the edit is mentioned, one removed is not", async () => {
      const { group, seq } = await team();
      await api(carol).message.edit({ conversationId: group, seq, body: `see you at 10 @${bob.username}` });
      expect((await unreadOf(handle.db, bob.id, group)).mentions).toBe(1);
      await api(carol).message.edit({ conversationId: group, seq, body: `see you at 10 @${alice.username}` });
      expect((await unreadOf(handle.db, bob.id, group)).mentions).toBe(0);
      expect((await unreadOf(handle.db, alice.id, group)).mentions).toBe(1);
    });
  });

  describe("message.delete", () => {
    it("leaves a tombstone for everyone: body, reactions and mentions gone, the seq kept", async () => {
      const { group } = await team();
      const { seq } = await send(carol, group, `secret plan @${bob.username}`);
      await api(alice).message.react({ conversationId: group, seq, emoji: "👍", on: true });
      const deleted = await api(carol).message.delete({ conversationId: group, seq });
      expect(deleted).toMatchObject({ seq, body: "", reactions: [], editedAt: null });
      expect(deleted.deletedAt).not.toBeNull();
      const seen = await messageAt(bob, group, seq);
      expect(seen).toMatchObject({ seq, body: "", reactions: [], deletedAt: deleted.deletedAt });
      const [left] = await queryRows<{ reactions: number; mentions: number }>(
        handle.db,
        sql`select (select count(*) from message_reactions where conversation_id = ${group}::uuid and seq = ${seq})::int as reactions,
                   (select count(*) from mentions where conversation_id = ${group}::uuid and seq = ${seq})::int as mentions`,
      );
      expect(left).toEqual({ reactions: 0, mentions: 0 });
      expect((await unreadOf(handle.db, bob.id, group)).mentions).toBe(0);
      // The list no longer previews what was taken back.
      const list = await api(bob).conversation.list({});
      expect(list.items.find((c) => c.id === group)?.lastMessagePreview).toBeNull();
    });

    it("is idempotent: deleting again answers the tombstone and writes nothing", async () => {
      const { group, seq } = await team();
      const first = await api(carol).message.delete({ conversationId: group, seq });
      const before = await footprint(handle.db);
      expect(await api(carol).message.delete({ conversationId: group, seq })).toEqual({ ...first, reaction: null });
      expect(await footprint(handle.db)).toEqual(before);
      expect(updatesFor(group)).toHaveLength(1);
    });

    it("lets a group owner or admin delete a member's message", async () => {
      const { group, seq } = await team();
      await expect(api(bob).message.delete({ conversationId: group, seq })).resolves.toMatchObject({ body: "" });
      const { seq: other } = await send(carol, group, "another");
      await expect(api(alice).message.delete({ conversationId: group, seq: other })).resolves.toMatchObject({
        body: "",
      });
    });

    it("refuses a member deleting someone else's message, an outsider and a removed member, and changes nothing", async () => {
      const { group } = await team();
      const { seq } = await send(alice, group, "owner speaking");
      const before = await footprint(handle.db);
      await expect(api(carol).message.delete({ conversationId: group, seq })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(api(outsider).message.delete({ conversationId: group, seq })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(api(dave).message.delete({ conversationId: group, seq })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(
        api(alice).message.delete({ conversationId: "00000000-0000-4000-8000-000000000000", seq }),
      ).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(await footprint(handle.db)).toEqual(before);
    });

    it("in a DM lets only the author delete: the peer is no moderator", async () => {
      const { conversationId } = await api(alice).conversation.openDm({ userId: bob.id });
      const { seq } = await send(alice, conversationId, "oops");
      await expect(api(bob).message.delete({ conversationId, seq })).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(api(alice).message.delete({ conversationId, seq })).resolves.toMatchObject({ body: "" });
    });

    it("takes a deleted unread message off the badge, and leaves a read one's count alone", async () => {
      const { group } = await team();
      const seqs = await say(handle.db, group, alice, ["one", "two", "three"]);
      await api(bob).message.markRead({ conversationId: group, seq: seqs[0] });
      expect((await unreadOf(handle.db, bob.id, group)).unread).toBe(2);
      const totalBefore = (await api(bob).conversation.unreadTotal()).unread;
      await api(alice).message.delete({ conversationId: group, seq: seqs[0] });
      expect((await unreadOf(handle.db, bob.id, group)).unread).toBe(2);
      await api(alice).message.delete({ conversationId: group, seq: seqs[2] });
      expect((await unreadOf(handle.db, bob.id, group)).unread).toBe(1);
      await api(alice).message.delete({ conversationId: group, seq: seqs[1] });
      expect((await unreadOf(handle.db, bob.id, group)).unread).toBe(0);
      expect((await api(bob).conversation.unreadTotal()).unread).toBe(totalBefore - 2);
      const list = await api(bob).conversation.list({});
      expect(list.items.find((c) => c.id === group)?.unread).toBe(0);
    });
  });

  describe("message.react", () => {
    it("counts reactions per emoji, flags the caller's own, and toggles idempotently", async () => {
      const { group, seq } = await team();
      await api(alice).message.react({ conversationId: group, seq, emoji: "👍", on: true });
      await api(bob).message.react({ conversationId: group, seq, emoji: "👍", on: true });
      const update = await api(bob).message.react({ conversationId: group, seq, emoji: "🎉", on: true });
      expect(update.reactions).toEqual([
        { emoji: "👍", count: 2 },
        { emoji: "🎉", count: 1 },
      ]);
      expect(update.reaction).toEqual({ userId: bob.id, emoji: "🎉", on: true });
      expect((await messageAt(alice, group, seq)).reactions).toEqual([
        { emoji: "👍", count: 2, me: true },
        { emoji: "🎉", count: 1, me: false },
      ]);

      const before = await footprint(handle.db);
      await api(alice).message.react({ conversationId: group, seq, emoji: "👍", on: true });
      await api(carol).message.react({ conversationId: group, seq, emoji: "👍", on: false });
      expect(await footprint(handle.db)).toEqual(before);

      await api(bob).message.react({ conversationId: group, seq, emoji: "🎉", on: false });
      expect((await messageAt(carol, group, seq)).reactions).toEqual([{ emoji: "👍", count: 2, me: false }]);
    });

    it("accepts one emoji or a :short_name:, and refuses anything else without writing", async () => {
      const { group, seq } = await team();
      for (const emoji of ["👩‍👩‍👧", "🇫🇷", "1️⃣", ":party_parrot:"]) {
        await api(carol).message.react({ conversationId: group, seq, emoji, on: true });
      }
      const before = await footprint(handle.db);
      for (const emoji of ["", "a", "👍👍", "<img src=x>", ":no spaces:", "👍 ", "x".repeat(40)]) {
        await expect(api(carol).message.react({ conversationId: group, seq, emoji, on: true })).rejects.toMatchObject({
          code: "BAD_REQUEST",
        });
      }
      expect(await footprint(handle.db)).toEqual(before);
    });

    it(`bounds a message to ${MAX_REACTION_EMOJI_PER_MESSAGE} different emoji, while existing ones still count`, async () => {
      const { group, seq } = await team();
      for (let i = 0; i < MAX_REACTION_EMOJI_PER_MESSAGE; i++) {
        await api(carol).message.react({ conversationId: group, seq, emoji: `:e${i}:`, on: true });
      }
      await expect(
        api(alice).message.react({ conversationId: group, seq, emoji: ":one_too_many:", on: true }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await api(alice).message.react({ conversationId: group, seq, emoji: ":e0:", on: true });
      const reactions = (await messageAt(alice, group, seq)).reactions;
      expect(reactions).toHaveLength(MAX_REACTION_EMOJI_PER_MESSAGE);
      expect(reactions[0]).toEqual({ emoji: ":e0:", count: 2, me: true });
    });

    it("refuses outsiders, removed members, deleted messages and history from before joining", async () => {
      const { group, seq } = await team();
      const erin = (await createPersonas(handle.db, "erin"))[0];
      await handle.db.insert(members).values({ conversationId: group, userId: erin.id, joinedSeq: seq });
      const before = await footprint(handle.db);
      const react = (who: Persona) => api(who).message.react({ conversationId: group, seq, emoji: "👍", on: true });
      await expect(react(outsider)).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(react(dave)).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(react(erin)).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(await footprint(handle.db)).toEqual(before);
      await api(carol).message.delete({ conversationId: group, seq });
      await expect(react(alice)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });

    it("pages who reacted with one emoji", async () => {
      const { group, seq } = await team();
      for (const who of [alice, bob, carol]) {
        await api(who).message.react({ conversationId: group, seq, emoji: "❤️", on: true });
      }
      const first = await api(alice).message.reactions({ conversationId: group, seq, emoji: "❤️", limit: 2 });
      expect(first.users).toHaveLength(2);
      expect(first.nextCursor).not.toBeNull();
      const second = await api(alice).message.reactions({
        conversationId: group,
        seq,
        emoji: "❤️",
        limit: 2,
        cursor: first.nextCursor,
      });
      expect(second).toMatchObject({ nextCursor: null });
      expect([...first.users, ...second.users].map((u) => u.id).sort()).toEqual([alice.id, bob.id, carol.id].sort());
      await expect(api(outsider).message.reactions({ conversationId: group, seq, emoji: "❤️" })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    });

    it("writes the same rows for a reaction, an edit and a delete in a group of 3 and of 2,000", async () => {
      const small = (await team()).group;
      const big = (await team()).group;
      await seedCrowd(handle.db, big, 2_000);
      const rows = async (group: string) => {
        const { seq } = await send(carol, group, "measure me");
        return {
          react: await rowsWrittenBy(handle.db, () =>
            api(alice).message.react({ conversationId: group, seq, emoji: "👍", on: true }),
          ),
          edit: await rowsWrittenBy(handle.db, () =>
            api(carol).message.edit({ conversationId: group, seq, body: "measured" }),
          ),
          delete: await rowsWrittenBy(handle.db, () => api(carol).message.delete({ conversationId: group, seq })),
        };
      };
      const inSmall = await rows(small);
      expect(inSmall.react).toEqual({
        users: 0,
        conversations: 1,
        members: 0,
        messages: 1,
        mentions: 0,
        message_reactions: 1,
        outbox: 1,
      });
      expect(inSmall.edit).toEqual({ ...inSmall.react, message_reactions: 0 });
      expect(await rows(big)).toEqual(inSmall);
    });
  });
});
