import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { outbox } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { createPersona, type Persona } from "../testing/personas";
import { connectAs, freePort, nextEvent, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { userChannel } from "./channels";
import { commitAndAnnounce, enqueueEvent, flushPublished, REQUEST_LEASE_SECONDS } from "./announce";
import { retryDelaySeconds } from "./outbox";
import { drainOutbox, purgeOutbox, startOutboxWorker } from "./outbox-worker";
import { createPublisher } from "./publisher";

describe.each(testDrivers)("the outbox publisher (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let alice: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver, { maxConnections: 10 });
    realtime = await startTestSoketi();
    alice = await createPersona(handle.db, "alice");
  });
  afterAll(async () => {
    await realtime.soketi.stop();
    await handle.close();
  });

  const pending = async () => {
    const [row] = await queryRows<{ n: string }>(
      handle.db,
      sql`select count(*) as n from outbox where processed_at is null`,
    );
    return Number(row.n);
  };
  const later = () => new Date(Date.now() + 3_600_000);

  it("leaves a row whose after-commit publish failed leased to nobody else, then retries it with backoff and its error", async () => {
    const nowhere = createPublisher({ ...realtime.config, port: await freePort() });
    const id = await commitAndAnnounce(handle.db, nowhere, (tx) =>
      enqueueEvent(tx, userChannel(alice.id), "sync", { version: 1 }),
    );

    const [row] = await handle.db.select().from(outbox).where(eq(outbox.id, id));
    expect(row.processedAt).toBeNull();
    expect(row.attempts).toBe(0);
    // Leased to the request that wrote it: the background publisher waits out the lease.
    expect(row.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + (REQUEST_LEASE_SECONDS - 5) * 1000);
    expect(await drainOutbox(handle.db, realtime.publisher)).toMatchObject({ claimed: 0 });

    await drainOutbox(handle.db, nowhere, { dueBy: later() });
    const [failed] = await handle.db.select().from(outbox).where(eq(outbox.id, id));
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toBeTruthy();
    expect(failed.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() - 5_000);
    await drainOutbox(handle.db, nowhere, { dueBy: later() });
    const [again] = await handle.db.select().from(outbox).where(eq(outbox.id, id));
    expect(again.attempts).toBe(2);

    expect(await drainOutbox(handle.db, realtime.publisher, { dueBy: later() })).toMatchObject({ published: 1 });
    const [done] = await handle.db.select().from(outbox).where(eq(outbox.id, id));
    expect(done.processedAt).not.toBeNull();
    expect([1, 2, 3, 4, 10].map(retryDelaySeconds)).toEqual([1, 2, 4, 8, 300]);
  });

  it("publishes what a transaction announced right after it commits, and marks the rows done in one batch", async () => {
    const client = connectAs(handle.db, realtime, alice.id);
    try {
      await subscribed(client, userChannel(alice.id));
      const arrival = nextEvent<{ version: number }>(client, userChannel(alice.id), "sync");
      const ids = await Promise.all(
        [7, 8, 9].map((version) =>
          commitAndAnnounce(handle.db, realtime.publisher, (tx) =>
            enqueueEvent(tx, userChannel(alice.id), "sync", { version }),
          ),
        ),
      );
      expect((await arrival).version).toBeGreaterThanOrEqual(7);
      await flushPublished(handle.db);
      const rows = await handle.db.select().from(outbox).where(inArray(outbox.id, ids));
      expect(rows.every((r) => r.processedAt !== null && r.attempts === 0)).toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it("announces nothing for a transaction that rolled back", async () => {
    const published: string[] = [];
    const watching = {
      ...realtime.publisher,
      publish: async (channels: string | string[]) => void published.push(String(channels)),
    };
    const before = await pending();
    await expect(
      commitAndAnnounce(handle.db, watching, async (tx) => {
        await enqueueEvent(tx, userChannel(alice.id), "sync", { version: 5 });
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(published).toEqual([]);
    expect(await pending()).toBe(before);
  });

  it("never hands the same row to two publishers running at once", async () => {
    for (let i = 0; i < 40; i++) await enqueueEvent(handle.db, userChannel(alice.id), "sync", { version: i });
    const passes = await Promise.all([
      drainOutbox(handle.db, realtime.publisher, { limit: 25 }),
      drainOutbox(handle.db, realtime.publisher, { limit: 25 }),
      drainOutbox(handle.db, realtime.publisher, { limit: 25 }),
    ]);
    expect(passes.reduce((n, p) => n + p.published, 0)).toBe(40);
    const [row] = await queryRows<{ n: string }>(handle.db, sql`select count(*) as n from outbox where attempts > 1`);
    expect(Number(row.n)).toBe(1); // only the row from the backoff test
    expect(await pending()).toBe(0);
  });

  it("deletes published rows older than the retention window, and nothing pending", async () => {
    const old = await enqueueEvent(handle.db, userChannel(alice.id), "sync", { version: 100 });
    const stuck = await enqueueEvent(handle.db, userChannel(alice.id), "sync", { version: 101 });
    await handle.db.execute(sql`update outbox set processed_at = now() - interval '2 days' where id = ${old}`);
    await handle.db.execute(sql`update outbox set created_at = now() - interval '2 days' where id = ${stuck}`);
    const [before] = await queryRows<{ n: string }>(handle.db, sql`select count(*) as n from outbox`);
    expect(await purgeOutbox(handle.db, { retentionHours: 24 })).toBe(1);
    const ids = (await handle.db.select({ id: outbox.id }).from(outbox)).map((r) => r.id);
    expect(ids).not.toContain(old);
    expect(ids).toContain(stuck);
    expect(ids).toHaveLength(Number(before.n) - 1);
    await drainOutbox(handle.db, realtime.publisher);
  });

  it("runs in the background: a row left behind is published without anyone asking", async () => {
    const client = connectAs(handle.db, realtime, alice.id);
    try {
      await subscribed(client, userChannel(alice.id));
      const arrival = nextEvent<{ version: number }>(client, userChannel(alice.id), "sync");
      const worker = startOutboxWorker(handle.db, realtime.publisher, { pollMs: 50, retentionHours: 24 });
      await enqueueEvent(handle.db, userChannel(alice.id), "sync", { version: 4242 });
      expect(await arrival).toEqual({ version: 4242 });
      await worker.stop();
      expect(await pending()).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});
