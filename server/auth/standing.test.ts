import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle, queryRows } from "@/db/client";
import { users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { commitAndAnnounce } from "../realtime/announce";
import { recordingPublisher } from "../testing/publisher";
import { createPersonas } from "../testing/personas";
import { endSessions, STANDING_CACHE_MS, sessionStanding, watchStanding } from "./standing";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A change made behind every cache's back: no NOTIFY, as a stale entry would see it. */
const raiseEpochSilently = (handle: DbHandle, userId: string) =>
  handle.db
    .update(users)
    .set({ sessionEpoch: sql`${users.sessionEpoch} + 1` })
    .where(eq(users.id, userId));

const listeners = async (handle: DbHandle) =>
  Number(
    (
      await queryRows<{ n: string }>(
        handle.db,
        sql`select count(*)::text as n from pg_stat_activity where datname = current_database() and query like 'listen %'`,
      )
    )[0].n,
  );

const epochNow = async (handle: DbHandle, userId: string) => (await sessionStanding(handle.db, userId))?.epoch;

// LISTEN/NOTIFY between processes: Postgres only (PGlite is one process, which forgets its own changes).
describe.each(testDrivers.filter((d) => d === "postgres"))("the standing watcher on %s", (driver) => {
  let handle: TestDb;
  // Another app instance on the same database.
  let other: DbHandle;
  let watcher: { stop: () => Promise<void> };

  beforeAll(async () => {
    handle = await createTestDb(driver);
    other = await createDb({ databaseUrl: handle.url, maxConnections: 2 });
    if (!handle.listen) throw new Error("postgres handles can listen");
    watcher = await watchStanding(handle.db, handle.listen, { pingMs: 200 });
  });
  afterAll(async () => {
    await watcher?.stop();
    await other?.close();
    await handle?.close();
  });

  it("keeps a standing past the short bound, and forgets it as soon as another instance ends the sessions", async () => {
    const [alice] = await createPersonas(handle.db, "alice");
    const epoch = await epochNow(handle, alice.id);
    await raiseEpochSilently(handle, alice.id);
    await sleep(STANDING_CACHE_MS + 500);
    // Not looked up again: nothing was announced.
    expect(await epochNow(handle, alice.id)).toBe(epoch);

    const ended = await commitAndAnnounce(other.db, recordingPublisher(), (tx) => endSessions(tx, alice.id));
    const endedAt = Date.now();
    await expect.poll(() => epochNow(handle, alice.id), { timeout: 2_000, interval: 20 }).toBe(ended);
    expect(Date.now() - endedAt).toBeLessThan(1_000);
  });

  it("a rolled-back change announces nothing", async () => {
    const [bob] = await createPersonas(handle.db, "bob");
    const epoch = await epochNow(handle, bob.id);
    await expect(
      other.db.transaction(async (tx) => {
        await endSessions(tx, bob.id);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    await sleep(500);
    expect(await epochNow(handle, bob.id)).toBe(epoch);
  });

  it("falls back to the short bound while its connection is gone, and forgets everything when it listens again", async () => {
    const [carol] = await createPersonas(handle.db, "carol");
    const epoch = Number(await epochNow(handle, carol.id));
    // The watcher's LISTEN connection drops; postgres.js reconnects it by itself.
    await other.db.execute(
      sql`select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and query like 'listen %' and pid <> pg_backend_pid()`,
    );
    await raiseEpochSilently(other, carol.id);
    // Seen within the short bound (stale entries expire, or the reconnect cleared them), never minutes.
    await expect
      .poll(() => epochNow(handle, carol.id), { timeout: STANDING_CACHE_MS + 3_000, interval: 50 })
      .toBe(epoch + 1);
    // Listening again, it hears changes at once again.
    await expect.poll(() => listeners(other), { timeout: 5_000, interval: 50 }).toBe(1);
    await sleep(300);
    const ended = await commitAndAnnounce(other.db, recordingPublisher(), (tx) => endSessions(tx, carol.id));
    await expect.poll(() => epochNow(handle, carol.id), { timeout: 1_000, interval: 20 }).toBe(ended);
  });
});

describe.each(testDrivers)("standings without a watcher on %s", (driver) => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb(driver);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("are trusted for the short bound only", async () => {
    const [dave] = await createPersonas(handle.db, "dave");
    const epoch = Number(await epochNow(handle, dave.id));
    await raiseEpochSilently(handle, dave.id);
    expect(await epochNow(handle, dave.id)).toBe(epoch);
    await sleep(STANDING_CACHE_MS + 100);
    expect(await epochNow(handle, dave.id)).toBe(epoch + 1);
  });
});
