import { createHmac } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversations, members, outbox, users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { conversationChannel, userChannel } from "../realtime/channels";
import type { Publisher } from "../realtime/publisher";
import { flushPublished } from "../realtime/announce";
import { recordingPublisher } from "../testing/publisher";
import { callerFor, createPersona, type Persona } from "../testing/personas";
import { countOnlineMembers, getPresence } from "./status";
import { dmBetween, groupOf } from "./testing";
import { applyWebhookEvents, heartbeat, setStatus, sweepExpired } from "./transitions";
import { handlePusherWebhook } from "./webhook";

const SECOND = 1000;
const at = (base: Date, seconds: number) => new Date(base.getTime() + seconds * SECOND);

describe.each(testDrivers)("presence (%s)", (driver) => {
  let handle: TestDb;
  const db = () => handle.db;
  const announcer = recordingPublisher();

  beforeAll(async () => {
    handle = await createTestDb(driver);
  });
  afterAll(async () => {
    await handle.close();
  });

  const outboxRows = () => db().select().from(outbox).orderBy(outbox.id);
  const outboxCount = async () => (await outboxRows()).length;
  const presenceRow = async (p: Persona) => {
    const [row] = await db().select().from(users).where(eq(users.id, p.id));
    return row;
  };
  const seenBy = async (viewer: Persona, subject: Persona, now?: Date) =>
    (await getPresence(db(), viewer.id, [subject.id], { now }))[0];

  describe("heartbeats", () => {
    let alice: Persona;
    let bob: Persona;
    beforeAll(async () => {
      alice = await createPersona(db(), "alice");
      bob = await createPersona(db(), "bob");
      await dmBetween(db(), alice, bob);
    });

    it("shows alice offline, never seen, before she ever connects", async () => {
      expect(await seenBy(bob, alice)).toEqual({ userId: alice.id, status: "offline", lastSeenAt: null });
    });

    it("makes alice online until her heartbeat expires, then the sweeper marks her offline, last seen at her last beat", async () => {
      const t0 = new Date("2030-01-01T10:00:00Z");
      const beat = await heartbeat(db(), alice.id, { publisher: announcer, now: t0, ttlSeconds: 30 });
      expect(beat.presence.status).toBe("online");
      expect((await presenceRow(alice)).presenceExpiresAt).toEqual(at(t0, 30));
      expect((await seenBy(bob, alice, at(t0, 29))).status).toBe("online");
      // Past the TTL she reads as offline at once, even before the sweeper runs.
      expect((await seenBy(bob, alice, at(t0, 31))).status).toBe("offline");

      const before = await outboxCount();
      const notYet = await sweepExpired(db(), { publisher: announcer, now: at(t0, 29), ttlSeconds: 30 });
      expect(notYet.swept).toBe(0);
      const swept = await sweepExpired(db(), { publisher: announcer, now: at(t0, 31), ttlSeconds: 30 });
      expect(swept.swept).toBeGreaterThanOrEqual(1);
      const row = await presenceRow(alice);
      expect(row.presenceStatus).toBe("offline");
      expect(row.presenceExpiresAt).toBeNull();
      expect(row.lastSeenAt).toEqual(t0);
      const events = (await outboxRows())
        .slice(before)
        .filter((r) => (r.payload as { userId: string }).userId === alice.id);
      expect(events).toHaveLength(1);
      expect(events[0].event).toBe("presence");
      expect(events[0].payload).toEqual({ userId: alice.id, status: "offline", lastSeenAt: t0.toISOString() });
    });

    it("writes no outbox row for a heartbeat that changes nothing peers see", async () => {
      const t0 = new Date("2030-01-02T10:00:00Z");
      const first = await heartbeat(db(), alice.id, { publisher: announcer, now: t0 });
      expect(first.announced).toBeGreaterThan(0);
      const before = await outboxCount();
      const again = await heartbeat(db(), alice.id, { publisher: announcer, now: at(t0, 45) });
      expect(again.announced).toBe(0);
      expect(await outboxCount()).toBe(before);
    });

    it("turns a hidden tab away once no device reported activity for a heartbeat interval", async () => {
      const carol = await createPersona(db(), "carol");
      await dmBetween(db(), carol, bob);
      const t0 = new Date("2030-01-03T10:00:00Z");
      // A tab opened in the background reports away straight away.
      expect((await heartbeat(db(), carol.id, { publisher: announcer, now: t0, away: true })).presence.status).toBe(
        "away",
      );
      // Active on one device: a hidden tab elsewhere does not flip her away.
      await heartbeat(db(), carol.id, { publisher: announcer, now: at(t0, 10) });
      expect(
        (await heartbeat(db(), carol.id, { publisher: announcer, now: at(t0, 20), away: true })).presence.status,
      ).toBe("online");
      // Nothing active for longer than an interval: away, and peers are told.
      const away = await heartbeat(db(), carol.id, { publisher: announcer, now: at(t0, 80), away: true });
      expect(away.presence.status).toBe("away");
      expect(away.announced).toBeGreaterThan(0);
      expect((await seenBy(bob, carol, at(t0, 81))).status).toBe("away");
      // Back at the keyboard.
      expect((await heartbeat(db(), carol.id, { publisher: announcer, now: at(t0, 90) })).presence.status).toBe(
        "online",
      );
    });

    it("shows busy while alice is present, offline when she is gone, and automatic again when she clears it", async () => {
      const t0 = new Date("2030-01-04T10:00:00Z");
      await heartbeat(db(), alice.id, { publisher: announcer, now: t0 });
      const busy = await setStatus(db(), alice.id, "busy", { publisher: announcer, now: t0 });
      expect(busy.presence.status).toBe("busy");
      expect(busy.announced).toBeGreaterThan(0);
      expect((await seenBy(bob, alice, at(t0, 1))).status).toBe("busy");
      expect((await seenBy(bob, alice, at(t0, 200))).status).toBe("offline");
      // Still busy across heartbeats.
      expect((await heartbeat(db(), alice.id, { publisher: announcer, now: at(t0, 40) })).presence.status).toBe("busy");
      const cleared = await setStatus(db(), alice.id, null, { publisher: announcer, now: at(t0, 41) });
      expect(cleared.presence.status).toBe("online");
      expect((await presenceRow(alice)).presenceManual).toBeNull();
    });
  });

  describe("the open conversation's last seq", () => {
    it("comes back with a beat on both paths for a member, and is null for a conversation the caller is not in, left or unknown", async () => {
      const dana = await createPersona(db(), "dana");
      const emil = await createPersona(db(), "emil");
      const stranger = await createPersona(db(), "stranger");
      const dm = await dmBetween(db(), dana, emil);
      const group = await groupOf(db(), [dana, emil], "Left behind");
      await db().update(conversations).set({ lastSeq: 7 }).where(eq(conversations.id, dm));
      await db()
        .update(members)
        .set({ leftAt: new Date() })
        .where(and(eq(members.conversationId, group), eq(members.userId, dana.id)));
      const t0 = new Date("2030-01-05T10:00:00Z");
      const beat = (who: Persona, open: string | undefined, now: Date) =>
        heartbeat(db(), who.id, { publisher: announcer, now, openConversationId: open });

      // The first beat takes the locked path (offline -> online), the next the one-statement path.
      const first = await beat(dana, dm, t0);
      expect(first.announced).toBeGreaterThan(0);
      expect(first.openLastSeq).toBe(7);
      const second = await beat(dana, dm, at(t0, 45));
      expect(second.announced).toBe(0);
      expect(second.openLastSeq).toBe(7);
      expect((await beat(dana, undefined, at(t0, 90))).openLastSeq).toBeNull();

      expect((await beat(stranger, dm, t0)).openLastSeq).toBeNull();
      expect((await beat(stranger, dm, at(t0, 45))).openLastSeq).toBeNull();
      expect((await beat(dana, group, at(t0, 135))).openLastSeq).toBeNull();
      expect((await beat(dana, crypto.randomUUID(), at(t0, 180))).openLastSeq).toBeNull();
    });

    it("is refused through the router when it is not a conversation id, and changes nothing", async () => {
      const fay = await createPersona(db(), "fay");
      const caller = callerFor(db(), fay);
      const rowBefore = await presenceRow(fay);
      for (const open of ["", "not-a-uuid", "'; drop table users; --"]) {
        await expect(caller.presence.heartbeat({ away: false, open })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      }
      expect(await presenceRow(fay)).toEqual(rowBefore);
      expect(await caller.presence.heartbeat({ away: false })).toMatchObject({ userId: fay.id, openLastSeq: null });
    });
  });

  describe("fan-out", () => {
    it("publishes one event addressed to alice's DMs and small groups, never one per member, and skips large groups", async () => {
      const alice = await createPersona(db(), "alice");
      const bob = await createPersona(db(), "bob");
      const carol = await createPersona(db(), "carol");
      const dave = await createPersona(db(), "dave");
      const erin = await createPersona(db(), "erin");
      const dmBob = await dmBetween(db(), alice, bob);
      const dmCarol = await dmBetween(db(), alice, carol);
      const small = await groupOf(db(), [alice, bob, carol], "Small");
      // Above the fan-out limit of 4 used here: members ask for an online count instead.
      const large = await groupOf(db(), [alice, bob, carol, dave, erin], "Large");
      const left = await groupOf(db(), [alice, bob], "Left");
      await db()
        .update(members)
        .set({ leftAt: new Date(), leftSeq: 0 })
        .where(and(eq(members.conversationId, left), eq(members.userId, alice.id)));

      const before = await outboxCount();
      const result = await heartbeat(db(), alice.id, { publisher: announcer, fanoutMaxMembers: 4 });
      const rows = (await outboxRows()).slice(before);
      expect(result.announced).toBe(1);
      expect(rows).toHaveLength(1);
      expect(rows[0].event).toBe("presence");
      expect(new Set(rows[0].channels)).toEqual(
        new Set([
          userChannel(alice.id),
          conversationChannel(dmBob),
          conversationChannel(dmCarol),
          conversationChannel(small),
        ]),
      );
      expect(rows[0].channels).not.toContain(conversationChannel(large));
      expect(rows[0].channels).not.toContain(conversationChannel(left));
      expect(rows[0].channels.some((c) => c === userChannel(bob.id))).toBe(false);
    });

    it("splits a user in many conversations into events of at most 100 channels (one Soketi trigger each)", async () => {
      const alice = await createPersona(db(), "alice");
      const peers = await Promise.all(Array.from({ length: 120 }, (_, i) => createPersona(db(), `peer${i}`)));
      const dms = [];
      for (const peer of peers) dms.push(await dmBetween(db(), alice, peer));
      const before = await outboxCount();
      await heartbeat(db(), alice.id, { publisher: announcer });
      const rows = (await outboxRows()).slice(before);
      expect(rows).toHaveLength(2);
      expect(rows.every((r) => r.channels.length <= 100)).toBe(true);
      const channels = rows.flatMap((r) => r.channels);
      expect(channels).toHaveLength(121);
      expect(new Set(channels)).toEqual(new Set([userChannel(alice.id), ...dms.map(conversationChannel)]));
    });
  });

  describe("who may see whom", () => {
    let alice: Persona;
    let bob: Persona;
    let outsider: Persona;
    let group: string;
    beforeAll(async () => {
      alice = await createPersona(db(), "alice");
      bob = await createPersona(db(), "bob");
      outsider = await createPersona(db(), "outsider");
      group = await groupOf(db(), [alice, bob]);
      await heartbeat(db(), alice.id, { publisher: announcer });
    });

    it("tells bob, who shares a group with alice, and alice herself", async () => {
      expect((await seenBy(bob, alice)).status).toBe("online");
      expect((await seenBy(alice, alice)).status).toBe("online");
    });

    it("tells an outsider nothing about alice, not even that she exists", async () => {
      expect(await getPresence(db(), outsider.id, [alice.id, bob.id])).toEqual([]);
    });

    it("stops telling bob once he left the group", async () => {
      const carol = await createPersona(db(), "carol");
      const g = await groupOf(db(), [carol, bob]);
      await db()
        .update(members)
        .set({ leftAt: new Date(), leftSeq: 0 })
        .where(and(eq(members.conversationId, g), eq(members.userId, bob.id)));
      expect(await getPresence(db(), bob.id, [carol.id])).toEqual([]);
    });

    it("answers presence.get for up to 200 ids and refuses more, malformed ids or a signed-out caller", async () => {
      const caller = callerFor(db(), bob);
      expect(await caller.presence.get({ userIds: [alice.id, outsider.id] })).toEqual([
        expect.objectContaining({ userId: alice.id, status: "online" }),
      ]);
      const ids = Array.from({ length: 201 }, () => crypto.randomUUID());
      await expect(caller.presence.get({ userIds: ids })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(caller.presence.get({ userIds: ["not-a-uuid"] })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(caller.presence.get({ userIds: [] })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(callerFor(db(), null).presence.get({ userIds: [alice.id] })).rejects.toMatchObject({
        code: "UNAUTHORIZED",
      });
    });

    it("counts present members of a group on demand, for members only", async () => {
      expect(await countOnlineMembers(db(), group)).toBe(1);
      expect(await callerFor(db(), bob).presence.onlineCount({ conversationId: group })).toEqual({
        online: 1,
        members: 2,
      });
      await expect(callerFor(db(), outsider).presence.onlineCount({ conversationId: group })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      // Expired heartbeats do not count, swept or not.
      expect(await countOnlineMembers(db(), group, { now: at(new Date(), 3600) })).toBe(0);
    });
  });

  describe("presence.setStatus and presence.heartbeat through the router", () => {
    it("sets busy, returns to automatic with null, and refuses unknown statuses without writing anything", async () => {
      const alice = await createPersona(db(), "alice");
      const caller = callerFor(db(), alice);
      await caller.presence.heartbeat({ away: false });
      expect(await caller.presence.setStatus({ status: "busy" })).toMatchObject({ userId: alice.id, status: "busy" });
      expect(await caller.presence.mine()).toMatchObject({ status: "busy", manual: "busy" });
      const before = await outboxCount();
      const rowBefore = await presenceRow(alice);
      for (const status of ["offline", "sleeping", ""]) {
        await expect(caller.presence.setStatus({ status: status as "busy" })).rejects.toMatchObject({
          code: "BAD_REQUEST",
        });
      }
      expect(await outboxCount()).toBe(before);
      expect(await presenceRow(alice)).toEqual(rowBefore);
      expect(await caller.presence.setStatus({ status: null })).toMatchObject({ status: "online" });
      await expect(callerFor(db(), null).presence.heartbeat({ away: false })).rejects.toMatchObject({
        code: "UNAUTHORIZED",
      });
    });
  });

  describe("webhooks", () => {
    let alice: Persona;
    beforeAll(async () => {
      alice = await createPersona(db(), "alice");
    });

    it("makes alice online when her channel is occupied and offline, last seen then, when it is vacated", async () => {
      const t0 = Date.parse("2030-02-01T10:00:00Z");
      const occupied = await applyWebhookEvents(db(), [{ name: "channel_occupied", channel: userChannel(alice.id) }], {
        publisher: announcer,
        timeMs: t0,
        now: new Date(t0),
      });
      expect(occupied.applied).toBe(1);
      expect(occupied.announced).toBeGreaterThan(0);
      expect((await presenceRow(alice)).presenceStatus).toBe("online");
      const vacated = await applyWebhookEvents(db(), [{ name: "channel_vacated", channel: userChannel(alice.id) }], {
        publisher: announcer,
        timeMs: t0 + 5000,
        now: new Date(t0 + 5000),
      });
      expect(vacated.applied).toBe(1);
      const row = await presenceRow(alice);
      expect(row.presenceStatus).toBe("offline");
      expect(row.lastSeenAt).toEqual(new Date(t0 + 5000));
    });

    it("ignores a webhook older than alice's latest signal (webhooks can arrive out of order)", async () => {
      const t0 = Date.parse("2030-02-02T10:00:00Z");
      await applyWebhookEvents(db(), [{ name: "channel_occupied", channel: userChannel(alice.id) }], {
        publisher: announcer,
        timeMs: t0,
        now: new Date(t0),
      });
      const late = await applyWebhookEvents(db(), [{ name: "channel_vacated", channel: userChannel(alice.id) }], {
        publisher: announcer,
        timeMs: t0 - 1000,
        now: new Date(t0 + 10),
      });
      expect(late.applied).toBe(0);
      expect((await presenceRow(alice)).presenceStatus).toBe("online");
    });

    it("applies a batch in order: each user ends where their last event in it leaves them", async () => {
      const [dana, erin] = await Promise.all([createPersona(db(), "dana"), createPersona(db(), "erin")]);
      const t0 = Date.parse("2030-02-03T10:00:00Z");
      const before = await outboxCount();
      const result = await applyWebhookEvents(
        db(),
        [
          { name: "channel_occupied", channel: userChannel(dana.id) },
          { name: "channel_occupied", channel: userChannel(erin.id) },
          { name: "channel_vacated", channel: userChannel(dana.id) },
        ],
        { publisher: announcer, timeMs: t0, now: new Date(t0) },
      );
      // Dana was offline and ends offline: peers hear of Erin alone.
      expect(result).toEqual({ applied: 2, announced: 1 });
      expect((await presenceRow(dana)).presenceStatus).toBe("offline");
      expect((await presenceRow(dana)).lastSeenAt).toEqual(new Date(t0));
      expect((await presenceRow(erin)).presenceStatus).toBe("online");
      expect(await outboxCount()).toBe(before + 1);
    });

    // Two transactions at once need two connections: PGlite has one.
    if (driver === "postgres")
      it("never waits on a user locked elsewhere while holding the others: that one is applied alone, after", async () => {
        const [fay, gus] = await Promise.all([createPersona(db(), "fay"), createPersona(db(), "gus")]);
        const t0 = Date.parse("2030-02-03T11:00:00Z");
        // Another transaction holds Gus's row (as a group being created with him does, or one bumping many users).
        let release = () => {};
        const held = new Promise<void>((r) => {
          release = r;
        });
        let locked = () => {};
        const isLocked = new Promise<void>((r) => {
          locked = r;
        });
        const holder = db().transaction(async (tx) => {
          await tx.execute(sql`select id from users where id = ${gus.id}::uuid for update`);
          locked();
          await held;
        });
        await isLocked;
        const applying = applyWebhookEvents(
          db(),
          [
            { name: "channel_occupied", channel: userChannel(gus.id) },
            { name: "channel_occupied", channel: userChannel(fay.id) },
          ],
          { publisher: announcer, timeMs: t0, now: new Date(t0) },
        );
        // Fay's part committed without waiting for Gus's row.
        await expect.poll(async () => (await presenceRow(fay)).presenceStatus).toBe("online");
        expect((await presenceRow(gus)).presenceStatus).not.toBe("online");
        release();
        await holder;
        expect(await applying).toEqual({ applied: 2, announced: 2 });
        expect((await presenceRow(gus)).presenceStatus).toBe("online");
      });

    it("ignores conversation channels, other event names and unknown users", async () => {
      const before = await outboxCount();
      const result = await applyWebhookEvents(
        db(),
        [
          { name: "channel_occupied", channel: conversationChannel(crypto.randomUUID()) },
          { name: "member_added", channel: userChannel(alice.id) },
          { name: "channel_occupied", channel: userChannel(crypto.randomUUID()) },
          { name: "channel_occupied", channel: "private-user-not-a-uuid" },
          { name: "channel_vacated" },
        ],
        { publisher: announcer },
      );
      expect(result).toEqual({ applied: 0, announced: 0 });
      expect(await outboxCount()).toBe(before);
    });
  });

  describe("POST /api/pusher/webhook", () => {
    const credentials = { key: "app-key", secret: "app-secret-0123456789" };
    const published: string[][] = [];
    const publisher: Publisher = {
      async publish(channels) {
        published.push(Array.isArray(channels) ? channels : [channels]);
      },
      authorizeChannel: () => ({ auth: "unused" }),
      authenticateUser: () => ({ auth: "unused", user_data: "{}" }),
      terminateUserConnections: async () => {},
    };
    const request = (body: string, headers: Record<string, string>) => ({
      rawBody: body,
      key: headers["x-pusher-key"],
      signature: headers["x-pusher-signature"],
    });
    const sign = (body: string, secret = credentials.secret) => createHmac("sha256", secret).update(body).digest("hex");

    it("refuses a bad signature, a wrong key or a missing signature with 401 and changes nothing", async () => {
      const alice = await createPersona(db(), "alice");
      const body = JSON.stringify({
        time_ms: Date.now(),
        events: [{ name: "channel_occupied", channel: userChannel(alice.id) }],
      });
      const rowBefore = await presenceRow(alice);
      const outboxBefore = await outboxCount();
      const attempts: Record<string, string>[] = [
        { "x-pusher-key": credentials.key, "x-pusher-signature": sign(body, "someone-elses-secret") },
        { "x-pusher-key": "other-app", "x-pusher-signature": sign(body) },
        { "x-pusher-key": credentials.key },
        { "x-pusher-key": credentials.key, "x-pusher-signature": "zz" },
        { "x-pusher-key": credentials.key, "x-pusher-signature": sign(`${body} `) },
      ];
      for (const headers of attempts) {
        const response = await handlePusherWebhook(request(body, headers), { db: db(), publisher, credentials });
        expect(response.status).toBe(401);
      }
      expect(await presenceRow(alice)).toEqual(rowBefore);
      expect(await outboxCount()).toBe(outboxBefore);
      expect(published).toEqual([]);
    });

    it("applies a correctly signed webhook and publishes the change after commit", async () => {
      const alice = await createPersona(db(), "alice");
      const bob = await createPersona(db(), "bob");
      const dm = await dmBetween(db(), alice, bob);
      const body = JSON.stringify({
        time_ms: Date.now(),
        events: [{ name: "channel_occupied", channel: userChannel(alice.id) }],
      });
      const response = await handlePusherWebhook(
        request(body, { "x-pusher-key": credentials.key, "x-pusher-signature": sign(body) }),
        { db: db(), publisher, credentials },
      );
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ applied: 1 });
      await flushPublished(db());
      expect((await presenceRow(alice)).presenceStatus).toBe("online");
      expect(published.at(-1)).toEqual(expect.arrayContaining([conversationChannel(dm)]));
      const rows = await db()
        .select({ processedAt: outbox.processedAt })
        .from(outbox)
        .where(sql`${outbox.payload}->>'userId' = ${alice.id}`);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.processedAt !== null)).toBe(true);
    });

    it("refuses a correctly signed webhook sent again (a replay) and one older than the age window", async () => {
      const alice = await createPersona(db(), "alice");
      const body = JSON.stringify({
        time_ms: Date.now(),
        events: [{ name: "channel_occupied", channel: userChannel(alice.id) }],
      });
      const signed = request(body, { "x-pusher-key": credentials.key, "x-pusher-signature": sign(body) });
      expect((await handlePusherWebhook(signed, { db: db(), publisher, credentials })).status).toBe(200);
      const replay = await handlePusherWebhook(signed, { db: db(), publisher, credentials });
      expect(replay).toEqual({ status: 401, body: { error: "Webhook was already received" } });

      const old = JSON.stringify({
        time_ms: Date.now() - 10 * 60_000,
        events: [{ name: "channel_vacated", channel: userChannel(alice.id) }],
      });
      const stale = await handlePusherWebhook(
        request(old, { "x-pusher-key": credentials.key, "x-pusher-signature": sign(old) }),
        { db: db(), publisher, credentials },
      );
      expect(stale.status).toBe(401);
      expect((await presenceRow(alice)).presenceStatus).toBe("online");
    });

    it("answers 400 to a signed but malformed body", async () => {
      const body = JSON.stringify({ events: "nope" });
      const response = await handlePusherWebhook(
        request(body, { "x-pusher-key": credentials.key, "x-pusher-signature": sign(body) }),
        { db: db(), publisher, credentials },
      );
      expect(response.status).toBe(400);
    });
  });
});
