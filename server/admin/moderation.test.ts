import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { unreadOf } from "../messaging/unread";
import { seedGroup } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";

describe.each(testDrivers)("a site admin deletes any message (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let alice: Persona;
  let bob: Persona;
  let gina: Persona;
  const publisher = recordingPublisher();
  const as = (who: Persona) => callerFor(db, who, publisher);

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    [alice, bob, gina] = await createPersonas(db, "alice", "bob", "gina");
    await db.update(users).set({ isAdmin: true }).where(eq(users.id, gina.id));
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("leaves a tombstone in a group she is not in, announced to its members, and bob's unread no longer counts it", async () => {
    const group = await seedGroup(db, alice, [bob]);
    const sent = await as(alice).message.send({
      conversationId: group,
      clientMsgId: "mod-1",
      body: "something abusive",
    });
    const unreadBefore = (await unreadOf(db, bob.id, group)).unread;
    publisher.published.length = 0;

    const done = await as(gina).admin.messages.delete({ conversationId: group, seq: sent.seq });
    expect(done).toMatchObject({ seq: sent.seq, deletedAt: expect.any(String) });
    // The answer names nothing of the conversation's content.
    expect(JSON.stringify(done)).not.toContain("abusive");

    const page = await as(bob).message.history({ conversationId: group, afterSeq: sent.seq - 1 });
    expect(page.messages[0]).toMatchObject({ seq: sent.seq, body: "", deletedAt: expect.any(String) });
    expect((await unreadOf(db, bob.id, group)).unread).toBe(unreadBefore - 1);
    const updates = publisher.published.filter((p) => p.event === "message.updated");
    expect(updates).toHaveLength(1);
    expect(JSON.stringify(updates[0].payload)).not.toContain("abusive");

    // Twice is the same as once: nothing more is written or announced.
    await as(gina).admin.messages.delete({ conversationId: group, seq: sent.seq });
    expect(publisher.published.filter((p) => p.event === "message.updated")).toHaveLength(1);
  });

  it("refuses what it cannot delete, clearly: a system line, an unknown message or conversation, and anyone who is not a site admin", async () => {
    // Created through the API, the group opens with its "created the group" line at seq 1.
    const { id: group } = await as(alice).group.create({ name: "Moderated", memberIds: [bob.id] });
    const sent = await as(alice).message.send({ conversationId: group, clientMsgId: "mod-2", body: "kept" });
    await expect(as(gina).admin.messages.delete({ conversationId: group, seq: 1 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "System messages cannot be deleted",
    });
    await expect(as(gina).admin.messages.delete({ conversationId: group, seq: 9_999 })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(
      as(gina).admin.messages.delete({ conversationId: "00000000-0000-4000-8000-000000000000", seq: 1 }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    // A group owner moderates through message.delete; the site-wide door is for site admins only.
    await expect(as(alice).admin.messages.delete({ conversationId: group, seq: sent.seq })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    const page = await as(bob).message.history({ conversationId: group, afterSeq: sent.seq - 1 });
    expect(page.messages[0]).toMatchObject({ body: "kept", deletedAt: null });
  });
});
