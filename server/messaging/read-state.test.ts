import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedCrowd, seedGroup, tableCounts } from "../testing/conversations";
import { callerFor, createPersona, createPersonas, type Persona } from "../testing/personas";
import { positionsOf, rowsWrittenBy, say, useTestPublisher } from "../testing/read-state";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { markDelivered, markRead, type ReadStateDeps } from "./read-state";
import { createReceiptsNotifier } from "./receipts-notifier";

describe.each(testDrivers)("read and delivered positions (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let deps: ReadStateDeps;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  let group: string;

  beforeAll(async () => {
    handle = await createTestDb(driver, { maxConnections: 10 });
    realtime = await startTestSoketi();
    useTestPublisher(realtime.publisher);
    deps = { publisher: realtime.publisher, notifier: createReceiptsNotifier() };
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
    group = await seedGroup(handle.db, alice, [bob, carol]);
    await say(handle.db, group, alice, ["one", "two", "three", "four", "five"]);
  });
  afterAll(async () => {
    await deps.notifier?.flush();
    await realtime.soketi.stop();
    await handle.close();
  });

  it("moves bob's read position forward, and delivered with it", async () => {
    const result = await markRead(handle.db, { userId: bob.id, conversationId: group, seq: 2 }, deps);
    expect(result).toEqual({ readSeq: 2, moved: true });
    expect(await positionsOf(handle.db, group, bob.id)).toMatchObject({ readSeq: 2, deliveredSeq: 2 });
  });

  it("accepts an older seq from a late device and ignores it", async () => {
    await markRead(handle.db, { userId: bob.id, conversationId: group, seq: 4 }, deps);
    const late = await markRead(handle.db, { userId: bob.id, conversationId: group, seq: 1 }, deps);
    expect(late).toEqual({ readSeq: 4, moved: false });
    expect(await positionsOf(handle.db, group, bob.id)).toMatchObject({ readSeq: 4, deliveredSeq: 4 });
  });

  it("never moves a position backwards under concurrent marks", async () => {
    const dave = await createPersona(handle.db, "dave");
    const busy = await seedGroup(handle.db, alice, [dave]);
    const seqs = await say(
      handle.db,
      busy,
      alice,
      Array.from({ length: 30 }, (_, i) => `m${i}`),
    );
    const shuffled = [...seqs].sort(() => Math.random() - 0.5);
    const observed: number[] = [];
    let marking = true;
    const watcher = (async () => {
      while (marking) {
        observed.push((await positionsOf(handle.db, busy, dave.id)).readSeq);
        // Yield to the marks: PGlite runs one query at a time and a tight loop would starve them.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const results = await Promise.all(
      shuffled.map((seq) => markRead(handle.db, { userId: dave.id, conversationId: busy, seq }, deps)),
    );
    marking = false;
    await watcher;
    observed.push((await positionsOf(handle.db, busy, dave.id)).readSeq);

    expect(observed.at(-1)).toBe(30);
    for (let i = 1; i < observed.length; i++) expect(observed[i]).toBeGreaterThanOrEqual(observed[i - 1]);
    // Each call answers with a position at least as far as what it asked for.
    for (const [i, result] of results.entries()) expect(result.readSeq).toBeGreaterThanOrEqual(shuffled[i]);
    // Concurrent delivered marks from another device do not undo reads either.
    await Promise.all(
      shuffled.map((seq) =>
        markDelivered(handle.db, { userId: dave.id, items: [{ conversationId: busy, seq }] }, deps),
      ),
    );
    expect(await positionsOf(handle.db, busy, dave.id)).toMatchObject({ readSeq: 30, deliveredSeq: 30 });
  });

  it("writes one member row and one outbox row per mark, for 2 members and for 10,000", async () => {
    const small = await seedGroup(handle.db, alice, [bob]);
    const big = await seedGroup(handle.db, alice, [bob]);
    expect(await seedCrowd(handle.db, big, 9_998)).toBe(10_000);
    await say(handle.db, small, alice, ["hi", "there"]);
    await say(handle.db, big, alice, ["hi", "there"]);

    const inSmall = await rowsWrittenBy(handle.db, () =>
      markRead(handle.db, { userId: bob.id, conversationId: small, seq: 2 }, deps),
    );
    const inBig = await rowsWrittenBy(handle.db, () =>
      markRead(handle.db, { userId: bob.id, conversationId: big, seq: 2 }, deps),
    );
    const expected = {
      users: 0,
      conversations: 0,
      members: 1,
      messages: 0,
      mentions: 0,
      message_reactions: 0,
      outbox: 1,
    };
    expect(inSmall).toEqual(expected);
    expect(inBig).toEqual(expected);

    const delivered = await rowsWrittenBy(handle.db, () =>
      markDelivered(handle.db, { userId: carol.id, items: [{ conversationId: group, seq: 5 }] }, deps),
    );
    expect(delivered).toEqual({ ...expected, outbox: 0 });
  });

  it("marks delivered for many conversations in one call, only forward", async () => {
    const other = await seedGroup(handle.db, alice, [carol]);
    await say(handle.db, other, alice, ["a", "b", "c"]);
    await markRead(handle.db, { userId: carol.id, conversationId: other, seq: 2 }, deps);

    const result = await markDelivered(
      handle.db,
      {
        userId: carol.id,
        items: [
          { conversationId: group, seq: 3 },
          { conversationId: other, seq: 1 },
          { conversationId: other, seq: 3 },
        ],
      },
      deps,
    );
    // group: carol already had 5 delivered; other: moved from 2 to 3.
    expect(result.moved).toEqual([{ conversationId: other, deliveredSeq: 3 }]);
    expect(await positionsOf(handle.db, other, carol.id)).toMatchObject({ readSeq: 2, deliveredSeq: 3 });
    expect(await positionsOf(handle.db, group, carol.id)).toMatchObject({ deliveredSeq: 5 });
  });

  it("takes overlapping delivered batches from two devices at once without failing either", async () => {
    const chats = await Promise.all(Array.from({ length: 8 }, () => seedGroup(handle.db, alice, [bob])));
    for (const chat of chats) await say(handle.db, chat, alice, ["a", "b", "c", "d", "e", "f"]);
    const rounds = [1, 2, 3, 4, 5, 6].map((seq) => chats.map((conversationId) => ({ conversationId, seq })));
    await Promise.all(
      rounds.flatMap((items) => [
        markDelivered(handle.db, { userId: bob.id, items }, deps),
        markDelivered(handle.db, { userId: bob.id, items: [...items].reverse() }, deps),
      ]),
    );
    for (const chat of chats) expect((await positionsOf(handle.db, chat, bob.id)).deliveredSeq).toBe(6);
  });

  describe("through the API", () => {
    it("marks read and delivered for a member", async () => {
      const carolApi = callerFor(handle.db, carol);
      expect(await carolApi.message.markRead({ conversationId: group, seq: 3 })).toEqual({ readSeq: 3, moved: true });
      const delivered = await carolApi.message.markDelivered({ items: [{ conversationId: group, seq: 5 }] });
      expect(delivered.moved).toEqual([]);
    });

    it("refuses a seq beyond the last message, and writes nothing", async () => {
      const before = await tableCounts(handle.db);
      const positions = await positionsOf(handle.db, group, bob.id);
      const bobApi = callerFor(handle.db, bob);
      await expect(bobApi.message.markRead({ conversationId: group, seq: 6 })).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringMatching(/beyond the last message/),
      });
      await expect(
        bobApi.message.markDelivered({
          items: [
            { conversationId: group, seq: 1 },
            { conversationId: group, seq: 99 },
          ],
        }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await tableCounts(handle.db)).toEqual(before);
      expect(await positionsOf(handle.db, group, bob.id)).toEqual(positions);
    });

    it("refuses malformed input with a clear message", async () => {
      const bobApi = callerFor(handle.db, bob);
      await expect(bobApi.message.markRead({ conversationId: group, seq: -1 })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      await expect(bobApi.message.markRead({ conversationId: group, seq: 1.5 })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      await expect(bobApi.message.markDelivered({ items: [] })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      const tooMany = Array.from({ length: 201 }, () => ({ conversationId: group, seq: 1 }));
      await expect(bobApi.message.markDelivered({ items: tooMany })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });

    it("does not let an outsider move positions in a conversation they are not in", async () => {
      const before = await tableCounts(handle.db);
      const outsiderApi = callerFor(handle.db, outsider);
      await expect(outsiderApi.message.markRead({ conversationId: group, seq: 1 })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(
        outsiderApi.message.markDelivered({ items: [{ conversationId: group, seq: 1 }] }),
      ).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(
        outsiderApi.message.markDelivered({ items: [{ conversationId: crypto.randomUUID(), seq: 1 }] }),
      ).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(
        callerFor(handle.db, null).message.markRead({ conversationId: group, seq: 1 }),
      ).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      expect(await tableCounts(handle.db)).toEqual(before);
      const [row] = await queryRows<{ n: number }>(
        handle.db,
        sql`select count(*)::int as n from members where user_id = ${outsider.id}::uuid`,
      );
      expect(row.n).toBe(0);
    });

    it("does not let a member who left move their positions", async () => {
      const erin = await createPersona(handle.db, "erin");
      const left = await seedGroup(handle.db, alice, [erin]);
      await say(handle.db, left, alice, ["bye"]);
      await handle.db.execute(
        sql`update members set left_at = now(), left_seq = 1 where conversation_id = ${left}::uuid and user_id = ${erin.id}::uuid`,
      );
      const erinApi = callerFor(handle.db, erin);
      await expect(erinApi.message.markRead({ conversationId: left, seq: 1 })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(erinApi.message.markDelivered({ items: [{ conversationId: left, seq: 1 }] })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      expect(await positionsOf(handle.db, left, erin.id)).toMatchObject({ readSeq: 0, deliveredSeq: 0 });
    });
  });
});
