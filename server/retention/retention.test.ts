import { and, eq, lte, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversations, members, messages } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { seedGroup } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { say } from "../testing/read-state";
import { purgeExpired } from "./retention";

const DAY = 86_400_000;

describe.each(testDrivers)("retention (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    [alice, bob, carol] = await createPersonas(db, "alice", "bob", "carol");
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** Makes a conversation's messages up to `seq` look `days` old. */
  const age = (conversationId: string, throughSeq: number, days: number) =>
    db
      .update(messages)
      .set({ createdAt: new Date(Date.now() - days * DAY) })
      .where(and(eq(messages.conversationId, conversationId), lte(messages.seq, throughSeq)));

  /** Runs passes until nothing is left to delete; the number of passes it took. */
  async function purgeAll(options: Parameters<typeof purgeExpired>[1]) {
    let passes = 0;
    for (;;) {
      passes++;
      const { deleted } = await purgeExpired(db, options);
      if (deleted === 0) return passes;
    }
  }

  it("messages older than RETENTION_DAYS go; unread, receipts, sync and history stay exact and show the cut", async () => {
    const group = await seedGroup(db, alice, [bob, carol], "Launch team");
    const old = await say(db, group, alice, ["one", "two", "three", "four"]);
    const recent = await say(db, group, alice, ["five", "six"]);
    await age(group, old[old.length - 1], 40);
    // Carol read up to "five"; bob read nothing.
    await callerFor(db, carol).message.markRead({ conversationId: group, seq: recent[0] });
    const bobs = callerFor(db, bob);
    const { version } = await bobs.sync.since({ version: 0 });
    const receiptsBefore = await callerFor(db, alice).message.receipts({
      conversationId: group,
      fromSeq: recent[0],
      toSeq: recent[1],
    });

    await purgeAll({ globalDays: 30 });

    const history = await bobs.message.history({ conversationId: group });
    expect(history.messages.map((m) => m.body).sort()).toEqual(["five", "six"]);
    expect(history.removedThroughSeq).toBe(old[old.length - 1]);
    const list = await bobs.conversation.list({});
    expect(list.items.find((c) => c.id === group)?.unread).toBe(2);
    expect((await bobs.conversation.unreadTotal()).unread).toBe(2);
    expect((await callerFor(db, carol).conversation.list({})).items.find((c) => c.id === group)?.unread).toBe(1);
    expect(
      await callerFor(db, alice).message.receipts({ conversationId: group, fromSeq: recent[0], toSeq: recent[1] }),
    ).toEqual(receiptsBefore);
    // Retention is no group change: sync still says nothing changed, in O(1).
    expect(await bobs.sync.since({ version })).toEqual({ version, groups: [], members: [], removed: [] });
  });

  it("deletes in bounded batches, oldest first, and never more than a batch per pass", async () => {
    const group = await seedGroup(db, alice, [bob], "Busy");
    const seqs = await say(
      db,
      group,
      alice,
      Array.from({ length: 35 }, (_, i) => `m${i}`),
    );
    await age(group, seqs[seqs.length - 1], 100);
    const first = await purgeExpired(db, { globalDays: 30, batch: 10 });
    expect(first.deleted).toBe(10);
    const [kept] = await db
      .select({ min: sql<number>`min(${messages.seq})::int` })
      .from(messages)
      .where(eq(messages.conversationId, group));
    expect(kept.min).toBe(seqs[10]);
    expect(await purgeAll({ globalDays: 30, batch: 10 })).toBe(4);
    expect(await db.$count(messages, eq(messages.conversationId, group))).toBe(0);
    // Everything went: the list shows no stale preview.
    const [row] = await db.select().from(conversations).where(eq(conversations.id, group));
    expect(row).toMatchObject({ lastMessagePreview: null, retainedFromSeq: seqs[seqs.length - 1] });
  });

  it("the owner's override wins over the global setting; without either, nothing is ever deleted", async () => {
    const keepsLong = await seedGroup(db, alice, [bob], "Archive");
    const keepsShort = await seedGroup(db, alice, [bob], "Ephemeral");
    for (const group of [keepsLong, keepsShort]) {
      const seqs = await say(db, group, alice, ["a", "b"]);
      await age(group, seqs[1], 10);
    }
    const owner = callerFor(db, alice);
    await owner.conversation.setRetention({ conversationId: keepsLong, days: 365 });
    await owner.conversation.setRetention({ conversationId: keepsShort, days: 7 });

    await purgeAll({ globalDays: null });
    expect(await db.$count(messages, eq(messages.conversationId, keepsShort))).toBe(0);
    expect(await db.$count(messages, eq(messages.conversationId, keepsLong))).toBe(2);
    await purgeAll({ globalDays: 5 });
    expect(await db.$count(messages, eq(messages.conversationId, keepsLong))).toBe(2);

    await owner.conversation.setRetention({ conversationId: keepsLong, days: null });
    await purgeAll({ globalDays: null });
    expect(await db.$count(messages, eq(messages.conversationId, keepsLong))).toBe(2);
    await purgeAll({ globalDays: 5 });
    expect(await db.$count(messages, eq(messages.conversationId, keepsLong))).toBe(0);
  });

  it("only the owner sets it, only on a group, within bounds", async () => {
    const group = await seedGroup(db, alice, [bob], "Rules");
    await expect(
      callerFor(db, bob).conversation.setRetention({ conversationId: group, days: 1 }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    for (const days of [0, -1, 1.5, 100_000, "30"]) {
      await expect(
        callerFor(db, alice).conversation.setRetention({ conversationId: group, days: days as never }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    const [row] = await db.select().from(conversations).where(eq(conversations.id, group));
    expect(row.retentionDays).toBeNull();
    const dm = await callerFor(db, alice).conversation.openDm({ userId: bob.id });
    await expect(
      callerFor(db, alice).conversation.setRetention({ conversationId: dm.conversationId, days: 3 }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    // A member who joined after the cut is not told of a removal they never saw.
    const late = await seedGroup(db, alice, [bob], "Late joiner");
    const seqs = await say(db, late, alice, ["x", "y"]);
    await age(late, seqs[0], 40);
    await purgeAll({ globalDays: 30 });
    await db
      .update(members)
      .set({ joinedSeq: seqs[1] })
      .where(and(eq(members.conversationId, late), eq(members.userId, bob.id)));
    expect((await callerFor(db, bob).message.history({ conversationId: late })).removedThroughSeq).toBe(0);
  });
});
