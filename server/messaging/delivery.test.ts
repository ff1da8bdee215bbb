import type Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { conversationChannel, userChannel } from "../realtime/channels";
import type { RealtimeEvents } from "../realtime/events";
import { drainOutbox } from "../realtime/outbox-worker";
import { startEmbeddedSoketi } from "../realtime/soketi";
import { seedGroup, tableCounts, testSendDeps } from "../testing/conversations";
import { callerFor, createPersona, createPersonas, type Persona } from "../testing/personas";
import { connectAs, nextEvent, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { openDm } from "./direct";
import { type SendDeps, sendMessage } from "./send";

type Delivered = RealtimeEvents["message.new"];

/** What a client keeps: messages de-duplicated by (conversation, seq), plus every raw event. */
function inbox(client: Pusher, channel: string) {
  const raw: Delivered[] = [];
  const bySeq = new Map<string, Delivered>();
  const waiters: { count: number; resolve: () => void }[] = [];
  client.channel(channel).bind("message.new", (m: Delivered) => {
    raw.push(m);
    bySeq.set(`${m.conversationId}:${m.seq}`, m);
    for (const w of waiters.filter((w) => bySeq.size >= w.count)) w.resolve();
  });
  return {
    raw,
    seqs: () => [...bySeq.values()].map((m) => m.seq).sort((a, b) => a - b),
    /** Resolves once `count` distinct messages have arrived. */
    until: (count: number) =>
      new Promise<void>((resolve) => (bySeq.size >= count ? resolve() : waiters.push({ count, resolve }))),
  };
}

const resubscribed = (client: Pusher, channel: string) =>
  new Promise<void>((resolve) => {
    const ch = client.channel(channel);
    const done = () => {
      ch.unbind("pusher:subscription_succeeded", done);
      resolve();
    };
    ch.bind("pusher:subscription_succeeded", done);
  });

describe.each(testDrivers)("realtime delivery of messages (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let deps: SendDeps;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  const clients: Pusher[] = [];

  beforeAll(async () => {
    handle = await createTestDb(driver);
    realtime = await startTestSoketi();
    deps = testSendDeps(realtime.publisher, 1000);
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await realtime.soketi.stop();
    await handle.close();
  });

  const connect = (who: Persona) => {
    const client = connectAs(handle.db, realtime, who.id);
    clients.push(client);
    return client;
  };
  const send = (who: Persona, conversationId: string, body: string, sendDeps = deps) =>
    sendMessage(handle.db, who.id, { conversationId, clientMsgId: crypto.randomUUID(), body }, sendDeps);

  it("delivers a message to every subscribed member with one publish, and never to an outsider", async () => {
    const group = await seedGroup(handle.db, alice, [bob, carol]);
    const channel = conversationChannel(group);
    const members = [connect(alice), connect(bob), connect(carol)];
    await Promise.all(members.map((c) => subscribed(c, channel)));
    await expect(subscribed(connect(outsider), channel)).rejects.toThrow(/refused/);

    const arrivals = members.map((c) => nextEvent<Delivered>(c, channel, "message.new"));
    const sent = await send(alice, group, "hello all");
    for (const message of await Promise.all(arrivals)) {
      expect(message).toMatchObject({
        id: sent.id,
        seq: 1,
        conversationId: group,
        body: "hello all",
        senderId: alice.id,
        senderName: "Alice",
      });
    }
  });

  it("tells the peer about a new DM on their user channel", async () => {
    const dave = await createPersona(handle.db, "dave");
    const client = connect(dave);
    await subscribed(client, userChannel(dave.id));
    const told = nextEvent<RealtimeEvents["conversation.new"]>(client, userChannel(dave.id), "conversation.new");
    const { conversationId } = await openDm(handle.db, alice.id, dave.id, { publisher: realtime.publisher });
    expect(await told).toEqual({ conversationId });
  });

  it("publishes a message over the 10 KB event limit as ids only; history has the full text", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    const channel = conversationChannel(group);
    const client = connect(bob);
    await subscribed(client, channel);
    const arrival = nextEvent<Delivered>(client, channel, "message.new");
    const body = "漢".repeat(4000); // 12,000 bytes of UTF-8
    const sent = await send(alice, group, body);
    expect(await arrival).toEqual({ id: sent.id, conversationId: group, seq: sent.seq, ref: true });
    const page = await callerFor(handle.db, bob).message.history({ conversationId: group, afterSeq: sent.seq - 1 });
    expect(page.messages[0].body).toBe(body);
  });

  // A Soketi of its own (compose's, a child process) can go down while the app runs; one in the app's process cannot.
  it("still accepts sends while Soketi is down and delivers each one, once, after it is back", async () => {
    const publisher = realtime.httpPublisher;
    const viaHttp = testSendDeps(publisher, 1000);
    const group = await seedGroup(handle.db, alice, [bob, carol]);
    const channel = conversationChannel(group);
    const bobClient = connect(bob);
    const carolClient = connect(carol);
    await Promise.all([subscribed(bobClient, channel), subscribed(carolClient, channel)]);
    const inboxes = [inbox(bobClient, channel), inbox(carolClient, channel)];

    for (const body of ["one", "two", "three"]) await send(alice, group, body, viaHttp);
    await Promise.all(inboxes.map((i) => i.until(3)));

    const disconnected = Promise.all(
      [bobClient, carolClient].map(
        (c) =>
          new Promise<void>((resolve) =>
            c.connection.bind("state_change", (s: { current: string }) => s.current !== "connected" && resolve()),
          ),
      ),
    );
    await realtime.soketi.stop();
    await disconnected;

    const whileDown = [];
    for (const body of ["four", "five", "six", "seven", "eight"]) whileDown.push(await send(bob, group, body, viaHttp));
    expect(whileDown.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    expect((await tableCounts(handle.db)).messages).toBeGreaterThanOrEqual(8);

    const back = Promise.all([resubscribed(bobClient, channel), resubscribed(carolClient, channel)]);
    realtime.soketi = await startEmbeddedSoketi({
      port: realtime.config.port,
      appId: realtime.config.appId,
      key: realtime.config.key,
      secret: realtime.config.secret,
    });
    // Reconnect now rather than at pusher-js's next retry (up to 15 s away once it calls Soketi unavailable).
    for (const c of [bobClient, carolClient]) {
      c.disconnect();
      c.connect();
    }
    await back;

    // The retry delays have not passed yet: act as the background publisher would once they have.
    const drained = await drainOutbox(handle.db, publisher, { dueBy: new Date(Date.now() + 3_600_000) });
    expect(drained).toMatchObject({ published: 5, failed: 0 });
    await Promise.all(inboxes.map((i) => i.until(8)));
    for (const i of inboxes) expect(i.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // Nothing is left to publish, so nothing can arrive twice later.
    expect(await drainOutbox(handle.db, publisher, { dueBy: new Date(Date.now() + 3_600_000) })).toMatchObject({
      claimed: 0,
    });
  });
});
