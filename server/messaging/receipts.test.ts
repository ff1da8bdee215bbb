import fc from "fast-check";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversations, members, messages } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedCrowd, seedGroup, tableCounts } from "../testing/conversations";
import { callerFor, createPersona, createPersonas, type Persona } from "../testing/personas";
import { say, useTestPublisher } from "../testing/read-state";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { openDm } from "./direct";
import { markDelivered, markRead, type ReadStateDeps } from "./read-state";
import { ReceiptsCache, receiptsFor } from "./receipts";
import { createReceiptsNotifier } from "./receipts-notifier";
import { nextMessageId } from "./snowflake";

type Seeded = { userId: string; joinedSeq: number; readSeq: number; deliveredSeq: number; left: boolean };

/** What a client should show, counted the slow way: member by member, message by message. */
function bruteForce(seeded: Seeded[], senders: (string | null)[], fromSeq: number, toSeq: number) {
  const rows = [];
  for (let seq = fromSeq; seq <= toSeq; seq++) {
    const senderId = senders[seq - 1];
    const others = seeded.filter((m) => !m.left && m.userId !== senderId && m.joinedSeq < seq);
    rows.push({
      seq,
      senderId,
      recipients: others.length,
      delivered: others.filter((m) => Math.max(m.deliveredSeq, m.readSeq) >= seq).length,
      read: others.filter((m) => m.readSeq >= seq).length,
      readBy: others
        .filter((m) => m.readSeq >= seq)
        .map((m) => m.userId)
        .sort(),
    });
  }
  return rows;
}

describe.each(testDrivers)("read receipts (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let deps: ReadStateDeps;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  let people: Persona[];

  beforeAll(async () => {
    handle = await createTestDb(driver);
    realtime = await startTestSoketi();
    useTestPublisher(realtime.publisher);
    deps = { publisher: realtime.publisher, notifier: createReceiptsNotifier() };
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
    people = await Promise.all(Array.from({ length: 10 }, (_, i) => createPersona(handle.db, `member${i}`)));
  });
  afterAll(async () => {
    await deps.notifier?.flush();
    await realtime.soketi.stop();
    await handle.close();
  });

  it("counts delivered and read per message exactly as a brute-force count does, on random groups", async () => {
    const member = fc.record({
      joinedSeq: fc.nat(12),
      readSeq: fc.nat(14),
      extraDelivered: fc.nat(4),
      left: fc.nat(4).map((n) => n === 0),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.nat(people.length - 1), { minLength: 1, maxLength: people.length }),
        fc.array(member, { minLength: people.length, maxLength: people.length }),
        fc.array(fc.option(fc.nat(people.length - 1), { freq: 6 }), { minLength: 1, maxLength: 12 }),
        fc.nat(14),
        fc.nat(14),
        async (chosen, shapes, senders, a, b) => {
          const lastSeq = senders.length;
          const seeded: Seeded[] = chosen.map((userIndex, i) => {
            const shape = shapes[i];
            const readSeq = Math.min(shape.readSeq, lastSeq);
            return {
              userId: people[userIndex].id,
              joinedSeq: Math.min(shape.joinedSeq, lastSeq),
              readSeq,
              deliveredSeq: Math.min(readSeq + shape.extraDelivered, lastSeq),
              left: shape.left,
            };
          });
          const [conversation] = await handle.db
            .insert(conversations)
            .values({ kind: "group", name: "random", lastSeq, memberCount: seeded.filter((m) => !m.left).length + 1 })
            .returning({ id: conversations.id });
          // alice looks at the receipts: a member since the start who sent nothing.
          seeded.push({ userId: alice.id, joinedSeq: 0, readSeq: 0, deliveredSeq: 0, left: false });
          await handle.db.insert(members).values(
            seeded.map((m) => ({
              conversationId: conversation.id,
              userId: m.userId,
              joinedSeq: m.joinedSeq,
              readSeq: m.readSeq,
              deliveredSeq: m.deliveredSeq,
              leftAt: m.left ? new Date() : null,
              leftSeq: m.left ? lastSeq : null,
            })),
          );
          await handle.db.insert(messages).values(
            senders.map((sender, i) => ({
              conversationId: conversation.id,
              seq: i + 1,
              id: nextMessageId(),
              senderId: sender === null ? null : people[sender].id,
              kind: sender === null ? ("system" as const) : ("text" as const),
              body: `m${i + 1}`,
            })),
          );
          const fromSeq = Math.min(a, b) + 1;
          const toSeq = Math.max(a, b) + 1;
          const senderIds = senders.map((s) => (s === null ? null : people[s].id));
          const expected = bruteForce(seeded, senderIds, fromSeq, Math.min(toSeq, lastSeq));
          const input = { userId: alice.id, conversationId: conversation.id, fromSeq, toSeq };

          const detailed = await receiptsFor(handle.db, input, { detailMaxMembers: 100 });
          expect(detailed.detailed).toBe(true);
          expect(detailed.items.map((r) => ({ ...r, readBy: [...(r.readBy ?? [])].sort() }))).toEqual(expected);

          const countsOnly = await receiptsFor(handle.db, input, {
            detailMaxMembers: 0,
            cache: new ReceiptsCache({ ttlMs: 30_000 }),
          });
          expect(countsOnly.detailed).toBe(false);
          expect(countsOnly.items).toEqual(expected.map(({ readBy: _, ...counts }) => counts));
        },
      ),
      { numRuns: 25 },
    );
  });

  it("lists who read in a small group, and names them", async () => {
    const group = await seedGroup(handle.db, alice, [bob, carol]);
    await say(handle.db, group, alice, ["lunch?", "at noon"]);
    await markRead(handle.db, { userId: bob.id, conversationId: group, seq: 2 }, deps);
    await markDelivered(handle.db, { userId: carol.id, items: [{ conversationId: group, seq: 1 }] }, deps);

    const receipts = await callerFor(handle.db, alice).message.receipts({
      conversationId: group,
      fromSeq: 1,
      toSeq: 2,
    });
    expect(receipts.detailed).toBe(true);
    expect(receipts.items).toEqual([
      { seq: 1, senderId: alice.id, recipients: 2, delivered: 2, read: 1, readBy: [bob.id] },
      { seq: 2, senderId: alice.id, recipients: 2, delivered: 1, read: 1, readBy: [bob.id] },
    ]);
    expect(receipts.readers).toEqual([{ id: bob.id, displayName: "Bob", avatarUrl: null }]);
    expect(receipts.peer).toBeNull();
  });

  it("gives the sender of a DM the peer's positions: sent, then delivered, then read", async () => {
    const { conversationId: dm } = await openDm(handle.db, alice.id, bob.id, { publisher: realtime.publisher });
    const [seq] = await say(handle.db, dm, alice, ["are you there?"]);
    const aliceApi = callerFor(handle.db, alice);
    const status = async () => {
      const r = await aliceApi.message.receipts({ conversationId: dm, fromSeq: seq, toSeq: seq });
      const peer = r.peer;
      if (!peer) throw new Error("a DM has a peer");
      return peer.readSeq >= seq ? "read" : peer.deliveredSeq >= seq ? "delivered" : "sent";
    };
    expect(await status()).toBe("sent");
    await callerFor(handle.db, bob).message.markDelivered({ items: [{ conversationId: dm, seq }] });
    expect(await status()).toBe("delivered");
    await callerFor(handle.db, bob).message.markRead({ conversationId: dm, seq });
    expect(await status()).toBe("read");
  });

  it("gives large groups counts only, shared from a cache until it expires", async () => {
    const big = await seedGroup(handle.db, alice, [bob, carol]);
    await seedCrowd(handle.db, big, 150);
    await say(handle.db, big, alice, ["hello", "everyone"]);
    let now = 1_000_000;
    const cache = new ReceiptsCache({ ttlMs: 30_000, now: () => now });
    const look = (who: Persona) =>
      receiptsFor(handle.db, { userId: who.id, conversationId: big, fromSeq: 1, toSeq: 2 }, { cache });

    const first = await look(alice);
    expect(first.detailed).toBe(false);
    expect(first.readers).toEqual([]);
    expect(first.items).toEqual([
      { seq: 1, senderId: alice.id, recipients: 152, delivered: 0, read: 0 },
      { seq: 2, senderId: alice.id, recipients: 152, delivered: 0, read: 0 },
    ]);
    // Many readers opening the same window at once share one count.
    await Promise.all([bob, carol, alice, bob, carol].map(look));
    expect(cache.computed).toBe(1);

    await markRead(handle.db, { userId: bob.id, conversationId: big, seq: 2 }, deps);
    now += 29_000;
    expect((await look(carol)).items).toEqual(first.items);
    expect(cache.computed).toBe(1);

    now += 2_000;
    const refreshed = await look(carol);
    expect(refreshed.items.map((r) => r.read)).toEqual([1, 1]);
    expect(cache.computed).toBe(2);
  });

  it("shares cached blocks between readers scrolled to different places, and stitches windows across blocks", async () => {
    const big = await seedGroup(handle.db, alice, [bob, carol]);
    await seedCrowd(handle.db, big, 120);
    await handle.db.insert(messages).values(
      Array.from({ length: 130 }, (_, i) => ({
        conversationId: big,
        seq: i + 1,
        id: nextMessageId(),
        senderId: i % 2 ? alice.id : bob.id,
        body: `m${i + 1}`,
      })),
    );
    await handle.db.execute(sql`update conversations set last_seq = 130 where id = ${big}::uuid`);
    await handle.db.execute(
      sql`update members set read_seq = (hashtext(user_id::text) & 127), delivered_seq = 130 where conversation_id = ${big}::uuid`,
    );
    const cache = new ReceiptsCache({ ttlMs: 30_000 });
    const look = (fromSeq: number, toSeq: number) =>
      receiptsFor(handle.db, { userId: carol.id, conversationId: big, fromSeq, toSeq }, { cache });

    await look(3, 20);
    await look(10, 40);
    expect(cache.computed).toBe(1);

    const stitched = await look(40, 130);
    expect(stitched.items.map((r) => r.seq)).toEqual(Array.from({ length: 91 }, (_, i) => i + 40));
    const detailed = await receiptsFor(
      handle.db,
      { userId: carol.id, conversationId: big, fromSeq: 40, toSeq: 130 },
      { detailMaxMembers: 1_000 },
    );
    expect(stitched.items).toEqual(detailed.items.map(({ readBy: _, ...counts }) => counts));
  });

  it("only shows receipts of messages a member could see, and never past the last message", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    await say(handle.db, group, alice, ["before carol", "also before"]);
    await handle.db.insert(members).values({ conversationId: group, userId: carol.id, joinedSeq: 2 });
    await say(handle.db, group, alice, ["welcome carol"]);
    const receipts = await receiptsFor(handle.db, { userId: carol.id, conversationId: group, fromSeq: 1, toSeq: 50 });
    expect(receipts.fromSeq).toBe(3);
    expect(receipts.toSeq).toBe(3);
    expect(receipts.items.map((r) => r.seq)).toEqual([3]);
  });

  it("refuses a window that is too wide or reversed, an outsider, and a stranger's conversation", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    await say(handle.db, group, alice, ["hi"]);
    const before = await tableCounts(handle.db);
    const aliceApi = callerFor(handle.db, alice);
    await expect(aliceApi.message.receipts({ conversationId: group, fromSeq: 1, toSeq: 101 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/at most 100/),
    });
    await expect(aliceApi.message.receipts({ conversationId: group, fromSeq: 5, toSeq: 2 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(aliceApi.message.receipts({ conversationId: group, fromSeq: 0, toSeq: 2 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      callerFor(handle.db, outsider).message.receipts({ conversationId: group, fromSeq: 1, toSeq: 1 }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      aliceApi.message.receipts({ conversationId: crypto.randomUUID(), fromSeq: 1, toSeq: 1 }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await tableCounts(handle.db)).toEqual(before);
  });

  it("counts a 3,000-member group from positions, members folded by where they stand", async () => {
    const big = await seedGroup(handle.db, alice, [bob]);
    await seedCrowd(handle.db, big, 3_000);
    await say(handle.db, big, alice, ["a", "b", "c"]);
    await handle.db.execute(
      sql`update members set read_seq = 2, delivered_seq = 3 where conversation_id = ${big}::uuid and user_id <> ${alice.id}::uuid`,
    );
    const receipts = await receiptsFor(
      handle.db,
      { userId: bob.id, conversationId: big, fromSeq: 1, toSeq: 3 },
      { cache: new ReceiptsCache({ ttlMs: 30_000 }) },
    );
    expect(
      receipts.items.map(({ seq, recipients, delivered, read }) => ({ seq, recipients, delivered, read })),
    ).toEqual([
      { seq: 1, recipients: 3_001, delivered: 3_001, read: 3_001 },
      { seq: 2, recipients: 3_001, delivered: 3_001, read: 3_001 },
      { seq: 3, recipients: 3_001, delivered: 3_001, read: 0 },
    ]);
  });
});
