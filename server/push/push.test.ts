import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { pushSubscriptions } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { createSendRateLimiter } from "../messaging/message-rules";
import { sendMessage } from "../messaging/send";
import { flushPublished } from "../realtime/announce";
import { createLimiter } from "../rate-limit";
import { seedCrowd, seedGroup, tableCounts, testSendDeps } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { type FakeDevice, startTestPushService, type TestPushService } from "../testing/push-endpoint";
import { say, useTestPublisher } from "../testing/read-state";
import { recordingPublisher } from "../testing/publisher";
import { usePushConfig } from "./config";
import { deliverPush } from "./delivery";
import { planPushes, type PushPlanDeps } from "./planner";
import { startPushWorker } from "./worker";

describe.each(testDrivers)("web push (%s)", (driver) => {
  let handle: TestDb;
  let service: TestPushService;
  let deps: PushPlanDeps;
  const publisher = recordingPublisher();
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let dana: Persona;
  let erin: Persona;
  let frank: Persona;
  let outsider: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    service = await startTestPushService();
    usePushConfig(service.config());
    deps = freshDeps();
    useTestPublisher(publisher);
    [alice, bob, carol, dana, erin, frank, outsider] = await createPersonas(
      handle.db,
      "alice",
      "bob",
      "carol",
      "dana",
      "erin",
      "frank",
      "outsider",
    );
  });
  afterAll(async () => {
    await service.close();
    await handle.close();
  });
  afterEach(async () => {
    // Each test starts with nobody subscribed and nothing left to plan.
    await handle.db.delete(pushSubscriptions);
    await planPushes(handle.db, deps, { limit: 10_000 });
    service.received.length = 0;
  });

  // A fresh rate limiter per test: earlier tests' pushes never count against later ones.
  const freshDeps = (ratePerMinute = 1000): PushPlanDeps => ({
    config: service.config({ ratePerMinute }),
    limiter: createLimiter(
      { keyPrefix: `push-test-${crypto.randomUUID()}`, points: ratePerMinute, durationSeconds: 60 },
      null,
    ),
  });

  const as = (who: Persona) => callerFor(handle.db, who, publisher);
  const sendDeps = () => ({
    ...testSendDeps(publisher),
    rateLimiter: createSendRateLimiter({ points: 10_000, durationSeconds: 1 }),
  });
  const send = async (who: Persona, conversationId: string, body: string) => {
    const sent = await sendMessage(
      handle.db,
      who.id,
      { conversationId, clientMsgId: crypto.randomUUID(), body },
      sendDeps(),
    );
    await flushPublished(handle.db);
    return sent;
  };
  const subscribeDevice = async (who: Persona, name: string): Promise<FakeDevice> => {
    const device = service.device(name);
    await as(who).push.subscribe({ endpoint: device.endpoint, keys: device.keys });
    return device;
  };
  const online = (who: Persona) => as(who).presence.heartbeat({ away: false });
  const plan = (d: PushPlanDeps = deps) => planPushes(handle.db, d, { limit: 1000 });
  const whoGot = () => [...new Set(service.received.map((r) => r.device))].sort();

  it("pushes alice's DM to both of bob's devices, encrypted for each, signed with the server's VAPID key", async () => {
    deps = freshDeps();
    const dm = (await as(alice).conversation.openDm({ userId: bob.id })).conversationId;
    await subscribeDevice(bob, "bob-phone");
    await subscribeDevice(bob, "bob-laptop");
    await subscribeDevice(alice, "alice-phone");

    await send(alice, dm, "Lunch at noon?");
    expect(service.received).toHaveLength(0);
    expect(await plan()).toMatchObject({ messages: 1, delivered: 2, failed: 0 });

    expect(whoGot()).toEqual(["bob-laptop", "bob-phone"]);
    expect(service.rejected).toEqual([]);
    for (const push of service.received) {
      expect(push.payload).toMatchObject({
        title: "Alice",
        body: "Lunch at noon?",
        conversationId: dm,
        url: `/c/${dm}`,
        unread: 1,
        tag: `chorus-conversation-${dm}`,
      });
      expect(push.topic).toBe(dm.replaceAll("-", ""));
      expect(push.urgency).toBe("high");
    }
  });

  it("never pushes at send time, nor a message not yet published", async () => {
    deps = freshDeps();
    const dm = (await as(alice).conversation.openDm({ userId: bob.id })).conversationId;
    await subscribeDevice(bob, "bob-phone");
    const before = await tableCounts(handle.db);
    await sendMessage(
      handle.db,
      alice.id,
      { conversationId: dm, clientMsgId: crypto.randomUUID(), body: "one" },
      sendDeps(),
    );
    // The send wrote what it always writes, nothing for pushes, and sent none.
    const after = await tableCounts(handle.db);
    expect(after.messages - before.messages).toBe(1);
    expect(after.outbox - before.outbox).toBe(1);
    expect(service.received).toHaveLength(0);

    // A message whose outbox row was never published (Soketi down) is not pushed until it is.
    await flushPublished(handle.db);
    await say(handle.db, dm, alice, ["unpublished"]);
    expect(await plan()).toMatchObject({ messages: 1, delivered: 1 });
    expect(service.forDevice("bob-phone")).toHaveLength(1);
    expect(service.forDevice("bob-phone")[0].body).toMatch(/\none$/);
    await handle.db.execute(sql`update outbox set processed_at = now() where processed_at is null`);
    expect(await plan()).toMatchObject({ messages: 1, delivered: 1 });
    expect(service.forDevice("bob-phone").at(-1)?.body).toMatch(/unpublished/);
  });

  it("in a group, pushes only members who should hear: not online, muted, snoozed, mentions-only or the sender", async () => {
    deps = freshDeps();
    const group = await seedGroup(handle.db, alice, [bob, carol, dana, erin, frank], "Launch");
    for (const who of [alice, bob, carol, dana, erin, frank]) await subscribeDevice(who, who.displayName);
    await online(carol);
    await as(dana).conversation.setNotifications({ conversationId: group, level: "none" });
    await as(erin).conversation.setNotifications({
      conversationId: group,
      level: "all",
      snoozeUntil: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await as(frank).conversation.setNotifications({ conversationId: group, level: "mentions" });

    await send(alice, group, "Plain news");
    await plan();
    expect(whoGot()).toEqual(["Bob"]);
    expect(service.received[0].payload).toMatchObject({ title: "Launch", body: "Alice: Plain news" });

    service.received.length = 0;
    await send(alice, group, `@${frank.username} can you look?`);
    await plan();
    expect(whoGot()).toEqual(["Bob", "Frank"]);

    service.received.length = 0;
    await send(alice, group, "@all release is out");
    await plan();
    expect(whoGot()).toEqual(["Bob", "Frank"]);

    // Bob answering is not pushed to bob; alice is offline and hears of it.
    service.received.length = 0;
    await send(bob, group, "Thanks");
    await plan();
    expect(whoGot()).toEqual(["Alice"]);
  });

  it("coalesces a burst into one notification per conversation: same tag and topic, counting up", async () => {
    deps = freshDeps();
    const dm = (await as(alice).conversation.openDm({ userId: carol.id })).conversationId;
    await handle.db.execute(sql`update users set presence_status = 'offline' where id = ${carol.id}::uuid`);
    await subscribeDevice(carol, "carol-phone");
    for (const body of ["are you there", "it's about the demo", "call me"]) await send(alice, dm, body);
    await plan();
    const pushes = service.forDevice("carol-phone");
    expect(pushes.map((p) => p.unread)).toEqual([3, 3, 3]);
    expect(new Set(pushes.map((p) => p.tag)).size).toBe(1);
    expect(pushes.at(-1)?.body).toBe("3 new messages from Alice\ncall me");
    expect(new Set(service.received.map((p) => p.topic)).size).toBe(1);
  });

  it("says who wrote but not what when bob hides message text in notifications", async () => {
    deps = freshDeps();
    const dm = (await as(dana).conversation.openDm({ userId: bob.id })).conversationId;
    await subscribeDevice(bob, "bob-phone");
    await as(bob).notification.updateSettings({ preview: false });
    await send(dana, dm, "the door code is 4711");
    await plan();
    const [push] = service.forDevice("bob-phone");
    expect(push).toMatchObject({ title: "Dana", body: "New message from Dana" });
    expect(JSON.stringify(push)).not.toContain("4711");
    await as(bob).notification.updateSettings({ preview: true });
  });

  it("deletes a subscription its push service answers 410 or 404 for, and keeps the others", async () => {
    deps = freshDeps();
    const dm = (await as(erin).conversation.openDm({ userId: frank.id })).conversationId;
    const gone = await subscribeDevice(frank, "old-tablet");
    const missing = await subscribeDevice(frank, "reset-phone");
    const laptop = await subscribeDevice(frank, "laptop");
    gone.status = 410;
    missing.status = 404;
    expect(await plan()).toMatchObject({ messages: 0 });
    await send(erin, dm, "hello");
    expect(await plan()).toMatchObject({ delivered: 1, gone: 2 });
    const left = await handle.db.select().from(pushSubscriptions);
    expect(left.map((s) => s.endpoint)).toEqual([laptop.endpoint]);
    expect(whoGot()).toEqual(["laptop"]);
  });

  it("rate-limits pushes per user and drops the rest", async () => {
    deps = freshDeps(2);
    const dm = (await as(alice).conversation.openDm({ userId: dana.id })).conversationId;
    await subscribeDevice(dana, "dana-phone");
    for (let i = 0; i < 5; i++) await send(alice, dm, `ping ${i}`);
    expect(await plan()).toMatchObject({ messages: 5, delivered: 2, limited: 3 });
    expect(service.forDevice("dana-phone")).toHaveLength(2);
  });

  it("fans a message to a large group out in bounded batches, each subscribed member exactly once", async () => {
    deps = { ...freshDeps(), batchSize: 7 };
    const group = await seedGroup(handle.db, alice, [bob], "Everyone");
    expect(await seedCrowd(handle.db, group, 150)).toBe(152);
    const crowd = await queryRows<{ user_id: string }>(
      handle.db,
      sql`select user_id from members where conversation_id = ${group}::uuid and role = 'member' and user_id <> ${bob.id}::uuid
          order by user_id limit 40`,
    );
    for (const [i, row] of crowd.entries()) {
      const device = service.device(`crowd-${i}`);
      // Two devices for some: the keyset pages over (user, endpoint).
      await as({ id: row.user_id, username: `crowd${i}`, displayName: `Crowd ${i}` }).push.subscribe({
        endpoint: device.endpoint,
        keys: device.keys,
      });
      if (i % 5 === 0) {
        const second = service.device(`crowd-${i}-tablet`);
        await as({ id: row.user_id, username: `crowd${i}`, displayName: `Crowd ${i}` }).push.subscribe({
          endpoint: second.endpoint,
          keys: second.keys,
        });
      }
    }
    // Above 100 members the group defaults to mentions: a plain message reaches nobody, @all everyone.
    await send(alice, group, "plain");
    expect(await plan()).toMatchObject({ delivered: 0 });
    await send(alice, group, "@all all hands at 3");
    expect(await plan()).toMatchObject({ delivered: 48 });
    const devices = service.received.map((r) => r.device);
    expect(new Set(devices).size).toBe(48);
  });

  it("refuses endpoints that are not public https, and bad keys, storing nothing", async () => {
    const good = service.device("unused");
    const refusals: [string, RegExp][] = [
      ["http://93.184.215.14/push/1", /endpoint must be an https URL/],
      ["ftp://93.184.215.14/push/1", /endpoint must be an https URL/],
      ["https://127.0.0.1/push/1", /endpoint must be on a public address/],
      ["https://localhost/push/1", /endpoint must be on a public address/],
      ["https://10.1.2.3/push/1", /endpoint must be on a public address/],
      ["https://192.168.0.10/push/1", /endpoint must be on a public address/],
      ["https://169.254.169.254/latest/meta-data", /endpoint must be on a public address/],
      ["https://100.64.0.1/push/1", /endpoint must be on a public address/],
      ["https://[::1]/push/1", /endpoint must be on a public address/],
      ["https://[::ffff:127.0.0.1]/push/1", /endpoint must be on a public address/],
      ["https://[fd00::1]/push/1", /endpoint must be on a public address/],
      ["https://0.0.0.0/push/1", /endpoint must be on a public address/],
      ["https://user:pass@93.184.215.14/push/1", /must not carry credentials/],
      ["not a url", /endpoint must be a URL/],
      // The allow list names host:port; the same host on another port is not on it.
      [good.endpoint.replace(/:\d+\//, ":1/"), /endpoint must be an https URL/],
    ];
    for (const [endpoint, message] of refusals) {
      await expect(as(bob).push.subscribe({ endpoint, keys: good.keys })).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringMatching(message),
      });
    }
    const badKeys: [unknown, RegExp][] = [
      [{ p256dh: "AAAA", auth: good.keys.auth }, /keys.p256dh must be an uncompressed P-256 public key/],
      [{ p256dh: good.keys.p256dh, auth: "AAAA" }, /keys.auth must be a 16-byte secret/],
      [{ p256dh: "<script>", auth: good.keys.auth }, /keys.p256dh must be base64url/],
      [{ p256dh: good.keys.p256dh }, /expected string|keys.auth/],
      ["nope", /keys must be an object/],
    ];
    for (const [keys, message] of badKeys) {
      await expect(as(bob).push.subscribe({ endpoint: good.endpoint, keys } as never)).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringMatching(message),
      });
    }
    await expect(
      as(bob).push.subscribe({ endpoint: `https://93.184.215.14/${"x".repeat(2100)}`, keys: good.keys }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/at most 2048/) });
    await expect(as(null as never).push.subscribe({ endpoint: good.endpoint, keys: good.keys })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    expect(await handle.db.select().from(pushSubscriptions)).toEqual([]);
  });

  it("re-checks the address when sending, so a stored private endpoint is never reached", async () => {
    const device = service.device("sneaky");
    const transport = service.config({ policy: { allowHosts: new Set() } });
    const target = { endpoint: device.endpoint.replace("http://", "https://"), ...device.keys };
    expect(await deliverPush(target, "{}", transport)).toMatchObject({
      kind: "failed",
      reason: /not a public address/,
    });
    const byName = { ...target, endpoint: target.endpoint.replace("127.0.0.1", "localhost") };
    expect(await deliverPush(byName, "{}", transport)).toMatchObject({
      kind: "failed",
      reason: /not a public address/,
    });
    expect(await deliverPush({ ...target, endpoint: device.endpoint }, "{}", transport)).toMatchObject({
      kind: "failed",
      reason: "endpoint is not https",
    });
    expect(service.received).toHaveLength(0);
  });

  it("lets each user remove only their own subscription, and moves a browser to whoever subscribed last", async () => {
    const phone = await subscribeDevice(bob, "shared-phone");
    expect(await as(outsider).push.unsubscribe({ endpoint: phone.endpoint })).toEqual({ removed: false });
    expect(await handle.db.select().from(pushSubscriptions)).toHaveLength(1);
    await as(carol).push.subscribe({ endpoint: phone.endpoint, keys: phone.keys });
    const [row] = await handle.db.select().from(pushSubscriptions);
    expect(row.userId).toBe(carol.id);
    expect(await as(bob).push.unsubscribe({ endpoint: phone.endpoint })).toEqual({ removed: false });
    expect(await as(carol).push.unsubscribe({ endpoint: phone.endpoint })).toEqual({ removed: true });
    expect(await handle.db.select().from(pushSubscriptions)).toEqual([]);
  });

  it("runs as a background worker: a message sent is pushed a moment later without anyone asking", async () => {
    const dm = (await as(erin).conversation.openDm({ userId: dana.id })).conversationId;
    await subscribeDevice(dana, "dana-laptop");
    const worker = startPushWorker(handle.db, freshDeps(), { pollMs: 50 });
    try {
      await send(erin, dm, "are you free at four?");
      await service.waitFor(1);
      expect(service.forDevice("dana-laptop").at(-1)?.body).toMatch(/are you free at four\?$/);
    } finally {
      await worker.stop();
    }
  });

  it("hands browsers the VAPID public key they subscribe with", async () => {
    expect(await as(bob).push.publicKey()).toEqual({ publicKey: service.config().vapid.publicKey });
  });
});
