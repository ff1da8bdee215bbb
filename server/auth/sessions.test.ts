import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { conversationChannel, userChannel } from "../realtime/channels";
import { seedGroup } from "../testing/conversations";
import { startTestServer, type TestServer } from "../testing/http";
import { createPersonas, PERSONA_PASSWORD, type Persona } from "../testing/personas";
import { connectionState, signedIn, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { verifyCredentials } from "./accounts";
import { STANDING_CACHE_MS } from "./standing";

const ENDS_WITHIN_MS = 5_000;

describe.each(testDrivers)("ending sessions (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let api: TestServer;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    realtime = await startTestSoketi({ signInTimeoutMs: 1_500 });
    api = await startTestServer(db, realtime);
  });
  afterAll(async () => {
    await api?.close();
    await realtime?.soketi.stop();
    await handle?.close();
  });

  /** A persona's open browser tab: signed in on its socket and subscribed to its own channel and the group. */
  async function openTab(cookie: string, persona: Persona, group: string) {
    const client = api.connect(cookie);
    const signIn = signedIn(client);
    await subscribed(client, userChannel(persona.id));
    await subscribed(client, conversationChannel(group));
    await signIn;
    return client;
  }

  it("alice signs out everywhere from her phone: her laptop's API calls, channel auth and socket end at once; bob is untouched", async () => {
    const [alice, bob] = await createPersonas(db, "alice", "bob");
    const group = await seedGroup(db, alice, [bob]);
    const laptop = await api.cookieFor(alice);
    const phone = await api.cookieFor(alice);
    const bobs = await api.cookieFor(bob);
    const tab = await openTab(laptop, alice, group);
    const closed = connectionState(tab, "disconnected");

    const startedAt = Date.now();
    const answer = await api.mutation(phone, "auth.signOutEverywhere");
    expect(answer).toMatchObject({ status: 200, data: { epoch: 1 } });
    await closed;

    for (const cookie of [laptop, phone]) {
      expect(await api.query(cookie, "user.me")).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
      expect(await api.channelAuthStatus(cookie, userChannel(alice.id))).toBe(401);
    }
    expect(Date.now() - startedAt).toBeLessThan(ENDS_WITHIN_MS);
    // Her tab cannot sign its socket in again: Soketi closes it, and it stays out of the group.
    expect(tab.channel(conversationChannel(group))?.subscribed).toBe(false);

    expect(await api.query(bobs, "user.me")).toMatchObject({ status: 200, data: { id: bob.id } });
    // Signing in again gives a session at the new epoch, which works.
    const again = await verifyCredentials(db, alice.username, PERSONA_PASSWORD);
    expect(again?.epoch).toBe(1);
    const fresh = await api.cookieFor(alice, again?.epoch);
    expect(await api.query(fresh, "user.me")).toMatchObject({ status: 200, data: { id: alice.id } });
  });

  it("a session ended by another app instance is refused here within the few seconds of the epoch cache", async () => {
    const [alice] = await createPersonas(db, "alice");
    const cookie = await api.cookieFor(alice);
    expect(await api.query(cookie, "user.me")).toMatchObject({ status: 200 });
    // Another instance raised the epoch: this process was not told and has it cached.
    const endedAt = Date.now();
    await db
      .update(users)
      .set({ sessionEpoch: sql`${users.sessionEpoch} + 1` })
      .where(eq(users.id, alice.id));
    await expect
      .poll(async () => (await api.query(cookie, "user.me")).status, { timeout: ENDS_WITHIN_MS, interval: 100 })
      .toBe(401);
    expect(Date.now() - endedAt).toBeLessThan(STANDING_CACHE_MS + 1_000);
  });

  it("a password change needs the current password; with it, every other session ends and only the new password signs in", async () => {
    const [alice] = await createPersonas(db, "alice");
    const laptop = await api.cookieFor(alice);
    const phone = await api.cookieFor(alice);

    const wrong = await api.mutation(laptop, "auth.changePassword", {
      currentPassword: "not my password",
      newPassword: "a brand new passphrase",
    });
    expect(wrong).toMatchObject({ status: 403, code: "FORBIDDEN", message: "Your current password is not right" });
    expect(await api.query(phone, "user.me")).toMatchObject({ status: 200 });
    expect(await verifyCredentials(db, alice.username, PERSONA_PASSWORD)).not.toBeNull();

    const tooShort = await api.mutation(laptop, "auth.changePassword", {
      currentPassword: PERSONA_PASSWORD,
      newPassword: "short",
    });
    expect(tooShort).toMatchObject({ status: 400, code: "BAD_REQUEST" });

    const changed = await api.mutation(laptop, "auth.changePassword", {
      currentPassword: PERSONA_PASSWORD,
      newPassword: "a brand new passphrase",
    });
    expect(changed).toMatchObject({ status: 200, data: { epoch: 1 } });
    expect(await api.query(phone, "user.me")).toMatchObject({ status: 401 });
    expect(await api.query(laptop, "user.me")).toMatchObject({ status: 401 });
    expect(await verifyCredentials(db, alice.username, PERSONA_PASSWORD)).toBeNull();
    expect(await verifyCredentials(db, alice.username, "a brand new passphrase")).toMatchObject({
      id: alice.id,
      epoch: 1,
    });
  });

  it("an admin deactivates bob: his socket closes, his sessions and sign-in are refused, he goes offline, his messages stay", async () => {
    const [gina, alice, bob] = await createPersonas(db, "gina", "alice", "bob");
    await db.update(users).set({ isAdmin: true }).where(eq(users.id, gina.id));
    const group = await seedGroup(db, alice, [bob]);
    const ginas = await api.cookieFor(gina);
    const alices = await api.cookieFor(alice);
    const bobs = await api.cookieFor(bob);
    const said = await api.mutation(bobs, "message.send", {
      conversationId: group,
      clientMsgId: "bob-before-leaving",
      body: "My last day today",
    });
    expect(said.status).toBe(200);
    expect(await api.mutation(bobs, "presence.heartbeat", { away: false })).toMatchObject({ status: 200 });
    const tab = await openTab(bobs, bob, group);
    const closed = connectionState(tab, "disconnected");

    const startedAt = Date.now();
    expect(await api.mutation(ginas, "admin.users.deactivate", { userId: bob.id })).toMatchObject({
      status: 200,
      data: { deactivated: true },
    });
    await closed;
    expect(await api.query(bobs, "user.me")).toMatchObject({ status: 401 });
    expect(await api.channelAuthStatus(bobs, conversationChannel(group))).toBe(401);
    expect(Date.now() - startedAt).toBeLessThan(ENDS_WITHIN_MS);
    expect(await verifyCredentials(db, bob.username, PERSONA_PASSWORD)).toBeNull();

    const presence = await api.query(alices, "presence.get", { userIds: [bob.id] });
    expect(JSON.stringify(presence.data)).toContain('"status":"offline"');
    const history = await api.query(alices, "message.history", { conversationId: group });
    expect(JSON.stringify(history.data)).toContain("My last day today");

    // Deactivating twice changes nothing; reactivating lets him sign in again, his old session stays ended.
    expect(await api.mutation(ginas, "admin.users.deactivate", { userId: bob.id })).toMatchObject({
      data: { deactivated: false },
    });
    expect(await api.mutation(ginas, "admin.users.reactivate", { userId: bob.id })).toMatchObject({ status: 200 });
    expect(await api.query(bobs, "user.me")).toMatchObject({ status: 401 });
    const back = await verifyCredentials(db, bob.username, PERSONA_PASSWORD);
    expect(back).toMatchObject({ id: bob.id, epoch: 1 });
    expect(await api.query(await api.cookieFor(bob, back?.epoch), "user.me")).toMatchObject({ status: 200 });
  });
});
