import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { conversations, members, mentions, messages } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedGroup, tableCounts, testSendDeps } from "../testing/conversations";
import { callerFor, createPersona, createPersonas, type Persona } from "../testing/personas";
import { positionsOf, say, useTestPublisher } from "../testing/read-state";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { markRead, type ReadStateDeps } from "./read-state";
import { nextMessageId } from "./snowflake";
import { createReceiptsNotifier } from "./receipts-notifier";
import { type SendDeps, sendMessage } from "./send";
import { mentionCounts, unreadOf, unreadTotal } from "./unread";

describe.each(testDrivers)("unread counts and mentions (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let deps: ReadStateDeps;
  let sendDeps: SendDeps;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    realtime = await startTestSoketi();
    useTestPublisher(realtime.publisher);
    deps = { publisher: realtime.publisher, notifier: createReceiptsNotifier() };
    sendDeps = testSendDeps(realtime.publisher);
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
  });
  afterAll(async () => {
    await deps.notifier?.flush();
    await realtime.soketi.stop();
    await handle.close();
  });

  const send = (who: Persona, conversationId: string, body: string) =>
    sendMessage(handle.db, who.id, { conversationId, clientMsgId: crypto.randomUUID(), body }, sendDeps);

  async function joinMidway(conversationId: string, who: Persona) {
    const [row] = await queryRows<{ last_seq: string | number }>(
      handle.db,
      sql`select last_seq from conversations where id = ${conversationId}::uuid`,
    );
    const joinedSeq = Number(row.last_seq);
    await handle.db.insert(members).values({ conversationId, userId: who.id, joinedSeq, readSeq: 0, deliveredSeq: 0 });
    await handle.db.execute(
      sql`update conversations set member_count = member_count + 1 where id = ${conversationId}::uuid`,
    );
    return joinedSeq;
  }

  it("counts unread after a member's read position, and only after they joined", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    await say(handle.db, group, alice, ["1", "2", "3", "4", "5"]);
    expect(await joinMidway(group, carol)).toBe(5);
    await say(handle.db, group, bob, ["6", "7", "8"]);

    expect((await unreadOf(handle.db, alice.id, group)).unread).toBe(3);
    expect((await unreadOf(handle.db, bob.id, group)).unread).toBe(0);
    // carol joined at 5: the five messages before her are history, not unread.
    expect((await unreadOf(handle.db, carol.id, group)).unread).toBe(3);

    await markRead(handle.db, { userId: carol.id, conversationId: group, seq: 6 }, deps);
    expect((await unreadOf(handle.db, carol.id, group)).unread).toBe(2);
    // alice's own sends already read up to 5; an older mark is ignored, a newer one counts.
    await markRead(handle.db, { userId: alice.id, conversationId: group, seq: 2 }, deps);
    expect((await unreadOf(handle.db, alice.id, group)).unread).toBe(3);
    await markRead(handle.db, { userId: alice.id, conversationId: group, seq: 7 }, deps);
    expect((await unreadOf(handle.db, alice.id, group)).unread).toBe(1);

    const carolList = await callerFor(handle.db, carol).conversation.list({});
    expect(carolList.items.find((c) => c.id === group)).toMatchObject({ unread: 2, mentions: 0, muted: false });
  });

  it("sums unread over conversations for the badge, leaving muted ones out", async () => {
    const dana = await createPersona(handle.db, "dana");
    const loud = await seedGroup(handle.db, alice, [dana]);
    const quiet = await seedGroup(handle.db, alice, [dana]);
    const read = await seedGroup(handle.db, alice, [dana]);
    await say(handle.db, loud, alice, ["a", "b"]);
    await say(handle.db, quiet, alice, ["c", "d", "e"]);
    await say(handle.db, read, alice, ["f"]);
    await markRead(handle.db, { userId: dana.id, conversationId: read, seq: 1 }, deps);

    const danaApi = callerFor(handle.db, dana);
    expect(await danaApi.conversation.unreadTotal()).toEqual({ unread: 5, conversations: 2 });

    expect(await danaApi.conversation.mute({ conversationId: quiet, muted: true })).toEqual({ muted: true });
    expect(await danaApi.conversation.unreadTotal()).toEqual({ unread: 2, conversations: 1 });
    // Muted still shows its own count in the list; only the total leaves it out.
    const list = await danaApi.conversation.list({});
    expect(list.items.find((c) => c.id === quiet)).toMatchObject({ unread: 3, muted: true });

    await danaApi.conversation.mute({ conversationId: quiet, muted: false });
    expect(await unreadTotal(handle.db, dana.id)).toEqual({ unread: 5, conversations: 2 });
  });

  it("leaves a conversation the user left out of the total", async () => {
    const erin = await createPersona(handle.db, "erin");
    const group = await seedGroup(handle.db, alice, [erin]);
    await say(handle.db, group, alice, ["x", "y"]);
    expect((await unreadTotal(handle.db, erin.id)).unread).toBe(2);
    await handle.db.execute(
      sql`update members set left_at = now(), left_seq = 2 where conversation_id = ${group}::uuid and user_id = ${erin.id}::uuid`,
    );
    expect(await unreadTotal(handle.db, erin.id)).toEqual({ unread: 0, conversations: 0 });
  });

  it("lets only members mute, and writes nothing otherwise", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    const before = await tableCounts(handle.db);
    await expect(
      callerFor(handle.db, outsider).conversation.mute({ conversationId: group, muted: true }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      callerFor(handle.db, bob).conversation.mute({ conversationId: group, muted: "yes" as never }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await tableCounts(handle.db)).toEqual(before);
    expect((await positionsOf(handle.db, group, bob.id)).muted).toBe(false);
  });

  it("shows every member the unread and mention counts a brute-force count gives, on random conversations", async () => {
    const people = await Promise.all(Array.from({ length: 6 }, (_, i) => createPersona(handle.db, `reader${i}`)));
    const message = fc.record({
      sender: fc.nat(people.length - 1),
      all: fc.nat(5).map((n) => n === 0),
      named: fc.uniqueArray(fc.nat(people.length - 1), { maxLength: 3 }),
      deleted: fc.nat(9).map((n) => n === 0),
    });
    const position = fc.record({ joinedSeq: fc.nat(10), readSeq: fc.nat(12) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 0, maxLength: 10 }),
        fc.array(position, { minLength: people.length, maxLength: people.length }),
        async (sent, positions) => {
          const lastSeq = sent.length;
          const seats = positions.map((p, i) => {
            const joinedSeq = Math.min(p.joinedSeq, lastSeq);
            return { user: people[i], joinedSeq, readSeq: Math.min(Math.max(p.readSeq, 0), lastSeq) };
          });
          const [conversation] = await handle.db
            .insert(conversations)
            .values({ kind: "group", name: "random", lastSeq, memberCount: people.length })
            .returning({ id: conversations.id });
          await handle.db.insert(members).values(
            seats.map((s) => ({
              conversationId: conversation.id,
              userId: s.user.id,
              joinedSeq: s.joinedSeq,
              readSeq: s.readSeq,
              deliveredSeq: s.readSeq,
            })),
          );
          if (sent.length > 0) {
            await handle.db.insert(messages).values(
              sent.map((m, i) => ({
                conversationId: conversation.id,
                seq: i + 1,
                id: nextMessageId(),
                senderId: people[m.sender].id,
                body: `m${i + 1}`,
                mentionsAll: m.all,
                deletedAt: m.deleted ? new Date() : null,
              })),
            );
          }
          const rows = sent.flatMap((m, i) =>
            m.named
              .filter((n) => n !== m.sender)
              .map((n) => ({ userId: people[n].id, conversationId: conversation.id, seq: i + 1 })),
          );
          if (rows.length > 0) await handle.db.insert(mentions).values(rows);

          const counted = await mentionCounts(handle.db, people[0].id, [conversation.id]);
          for (const [i, seat] of seats.entries()) {
            const seen = Math.max(seat.readSeq, seat.joinedSeq);
            const expectedMentions = sent.filter(
              (m, s) => s + 1 > seen && !m.deleted && m.sender !== i && (m.all || m.named.includes(i)),
            ).length;
            const shown = await unreadOf(handle.db, seat.user.id, conversation.id);
            expect({ unread: shown.unread, mentions: shown.mentions }).toEqual({
              // Tombstones in the window do not count.
              unread: sent.filter((m, s) => s + 1 > seen && !m.deleted).length,
              mentions: expectedMentions,
            });
            if (i === 0) expect(counted.get(conversation.id) ?? 0).toBe(expectedMentions);
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it("keeps every member's badge equal to a brute-force count while messages are sent, edited, deleted, read and marked unread", async () => {
    const cast = await Promise.all(Array.from({ length: 4 }, (_, i) => createPersona(handle.db, `actor${i}`)));
    const op = fc.oneof(
      fc.record({ kind: fc.constant("send" as const), who: fc.nat(3) }),
      fc.record({ kind: fc.constant("edit" as const), who: fc.nat(3), pick: fc.nat(20) }),
      fc.record({ kind: fc.constant("delete" as const), who: fc.nat(3), pick: fc.nat(20) }),
      fc.record({ kind: fc.constant("read" as const), who: fc.nat(3), pick: fc.nat(20) }),
      fc.record({ kind: fc.constant("unread" as const), who: fc.nat(3), pick: fc.nat(20) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        // cast[0] owns the group, so may delete anyone's message; the others delete only their own.
        const group = await seedGroup(handle.db, cast[0], cast.slice(1));
        const model = {
          messages: [] as { sender: number; deleted: boolean }[],
          read: cast.map(() => 0),
        };
        for (const o of ops) {
          const who = cast[o.who];
          const api = callerFor(handle.db, who, realtime.publisher);
          const count = model.messages.length;
          const seq = count === 0 ? 0 : (("pick" in o ? o.pick : 0) % count) + 1;
          if (o.kind === "send") {
            await send(who, group, `message from ${who.username}`);
            model.messages.push({ sender: o.who, deleted: false });
            model.read[o.who] = model.messages.length;
            continue;
          }
          if (seq === 0) continue;
          const target = model.messages[seq - 1];
          const allowedToChange = target.sender === o.who || (o.kind === "delete" && o.who === 0);
          if (o.kind === "edit") {
            const call = api.message.edit({ conversationId: group, seq, body: `edited ${seq}` });
            if (allowedToChange && !target.deleted) await call;
            else await expect(call).rejects.toBeDefined();
          } else if (o.kind === "delete") {
            const call = api.message.delete({ conversationId: group, seq });
            if (allowedToChange) {
              await call;
              target.deleted = true;
            } else await expect(call).rejects.toMatchObject({ code: "FORBIDDEN" });
          } else if (o.kind === "read") {
            await api.message.markRead({ conversationId: group, seq });
            model.read[o.who] = Math.max(model.read[o.who], seq);
          } else {
            await api.message.markUnread({ conversationId: group, seq });
            model.read[o.who] = Math.min(model.read[o.who], seq - 1);
          }
        }
        for (const [i, person] of cast.entries()) {
          const expected = model.messages.filter((m, s) => s + 1 > model.read[i] && !m.deleted).length;
          const shown = await unreadOf(handle.db, person.id, group);
          expect(shown.unread, `${person.username} after ${JSON.stringify(ops)}`).toBe(expected);
          const listed = await callerFor(handle.db, person).conversation.list({});
          expect(listed.items.find((c) => c.id === group)?.unread).toBe(expected);
        }
      }),
      { numRuns: 15 },
    );
  });

  describe("mentions", () => {
    let group: string;
    beforeAll(async () => {
      group = await seedGroup(handle.db, alice, [bob, carol]);
    });

    it("counts an @username mention for that member only, until they read past it", async () => {
      await send(alice, group, `lunch @${bob.username}?`);
      expect((await unreadOf(handle.db, bob.id, group)).mentions).toBe(1);
      expect((await unreadOf(handle.db, carol.id, group)).mentions).toBe(0);
      expect((await unreadOf(handle.db, alice.id, group)).mentions).toBe(0);

      const bobList = await callerFor(handle.db, bob).conversation.list({});
      expect(bobList.items.find((c) => c.id === group)).toMatchObject({ unread: 1, mentions: 1 });

      const last = (await unreadOf(handle.db, bob.id, group)).lastSeq;
      await markRead(handle.db, { userId: bob.id, conversationId: group, seq: last }, deps);
      expect((await unreadOf(handle.db, bob.id, group)).mentions).toBe(0);
    });

    it("counts @all for every member but the sender, without a row per member", async () => {
      const before = await tableCounts(handle.db);
      await send(bob, group, "@all standup in 5");
      await send(carol, group, "ok @here");
      const after = await tableCounts(handle.db);
      expect(after.mentions - before.mentions).toBe(0);
      expect(after.messages - before.messages).toBe(2);

      expect((await unreadOf(handle.db, alice.id, group)).mentions).toBe(2);
      expect((await unreadOf(handle.db, bob.id, group)).mentions).toBe(1);
      // Replying reads what came before: carol's own send moved her past bob's @all.
      expect((await unreadOf(handle.db, carol.id, group)).mentions).toBe(0);
    });

    it("does not count @all from before a member joined", async () => {
      const frank = await createPersona(handle.db, "frank");
      await joinMidway(group, frank);
      expect((await unreadOf(handle.db, frank.id, group)).mentions).toBe(0);
      await send(alice, group, `@all meet @${frank.username}`);
      // One message mentioning frank twice (by name and @all) is one unread mention.
      expect((await unreadOf(handle.db, frank.id, group)).mentions).toBe(1);
    });

    it("ignores unknown usernames, non-members, self-mentions and e-mail addresses", async () => {
      const before = await tableCounts(handle.db);
      await send(
        carol,
        group,
        `@nobody_at_all and @${outsider.username}, @${carol.username}, write to ${bob.username}@example.com`,
      );
      const after = await tableCounts(handle.db);
      expect(after.mentions).toBe(before.mentions);
      expect(after.messages).toBe(before.messages + 1);
      const outsiderCounts = await mentionCounts(handle.db, outsider.id, [group]);
      expect(outsiderCounts.get(group) ?? 0).toBe(0);
    });

    it("matches usernames case-insensitively and around punctuation", async () => {
      const before = (await unreadOf(handle.db, carol.id, group)).mentions;
      await send(alice, group, `Thanks, @${carol.username.toUpperCase()}.`);
      expect((await unreadOf(handle.db, carol.id, group)).mentions).toBe(before + 1);
    });
  });
});
