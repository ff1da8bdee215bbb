import { randomUUID } from "node:crypto";
import type Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { sendMessage } from "../messaging/send";
import { conversationChannel } from "../realtime/channels";
import type { RealtimeEvents } from "../realtime/events";
import { seedGroup, testSendDeps } from "../testing/conversations";
import { createPersonas, type Persona } from "../testing/personas";
import {
  connectAs,
  connectionState,
  nextEvent,
  signedIn,
  startTestSoketi,
  subscribed,
  type TestSoketi,
} from "../testing/realtime";
import { leaveGroup, removeMember } from "./membership";

type NewMessage = RealtimeEvents["message.new"];

describe.each(testDrivers)("a former member's open socket (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  const clients: Pusher[] = [];

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    realtime = await startTestSoketi({ signInTimeoutMs: 1_500 });
    [alice, bob, carol] = await createPersonas(db, "alice", "bob", "carol");
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await realtime?.soketi.stop();
    await handle?.close();
  });

  /** A signed-in client subscribed to the group, with every message.new it hears. */
  const member = async (persona: Persona, group: string) => {
    const client = connectAs(db, realtime, persona.id);
    clients.push(client);
    const signIn = signedIn(client);
    await subscribed(client, conversationChannel(group));
    await signIn;
    const heard: NewMessage[] = [];
    client.channel(conversationChannel(group)).bind("message.new", (m: NewMessage) => heard.push(m));
    return { client, heard };
  };

  const refusedOnResubscribe = (client: Pusher, group: string) =>
    new Promise<unknown>((resolve) =>
      client.channel(conversationChannel(group)).bind("pusher:subscription_error", resolve),
    );

  // The removal's own system message may still be on its way: wait for this one.
  const heardSaying = (client: Pusher, group: string, body: string) =>
    nextEvent<NewMessage>(client, conversationChannel(group), "message.new", (m) => "body" in m && m.body === body);

  const aliceSays = (group: string, body: string) =>
    sendMessage(
      db,
      alice.id,
      { conversationId: group, clientMsgId: randomUUID(), body },
      testSendDeps(realtime.publisher),
    );

  it("a removed member's open socket stops receiving the group's messages within 2 s and cannot resubscribe", async () => {
    const group = await seedGroup(db, alice, [bob, carol]);
    const bobs = await member(bob, group);
    const carols = await member(carol, group);

    const closed = connectionState(bobs.client, "disconnected");
    const refused = refusedOnResubscribe(bobs.client, group);
    const removedAt = Date.now();
    await removeMember(db, alice.id, { conversationId: group, userId: bob.id }, { publisher: realtime.publisher });
    await closed;
    expect(Date.now() - removedAt).toBeLessThan(2_000);

    // His client reconnects and signs in by itself; the group's channel is refused now.
    const back = signedIn(bobs.client);
    await refused;
    await back;
    const heardByCarol = heardSaying(carols.client, group, "after bob left");
    const sent = await aliceSays(group, "after bob left");
    expect(await heardByCarol).toMatchObject({ seq: sent.seq });
    expect(bobs.heard.map((m) => m.seq)).not.toContain(sent.seq);
    expect(bobs.client.channel(conversationChannel(group)).subscribed).toBe(false);
  });

  it("a member who leaves stops receiving the group's messages within 2 s and cannot resubscribe", async () => {
    const group = await seedGroup(db, alice, [bob, carol]);
    const bobs = await member(bob, group);
    const carols = await member(carol, group);

    const closed = connectionState(bobs.client, "disconnected");
    const refused = refusedOnResubscribe(bobs.client, group);
    const leftAt = Date.now();
    await leaveGroup(db, bob.id, { conversationId: group }, { publisher: realtime.publisher });
    await closed;
    expect(Date.now() - leftAt).toBeLessThan(2_000);

    await refused;
    const heardByCarol = heardSaying(carols.client, group, "after bob left");
    const sent = await aliceSays(group, "after bob left");
    expect(await heardByCarol).toMatchObject({ seq: sent.seq });
    expect(bobs.heard.map((m) => m.seq)).not.toContain(sent.seq);
  });

  it("a member who was not removed keeps receiving, on the same socket", async () => {
    const group = await seedGroup(db, alice, [bob, carol]);
    await member(bob, group);
    const carols = await member(carol, group);
    const states: string[] = [];
    carols.client.connection.bind("state_change", ({ current }: { current: string }) => states.push(current));
    const socketId = carols.client.connection.socket_id;

    await removeMember(db, alice.id, { conversationId: group, userId: bob.id }, { publisher: realtime.publisher });
    const heard = heardSaying(carols.client, group, "carol is still here");
    const sent = await aliceSays(group, "carol is still here");
    expect(await heard).toMatchObject({ seq: sent.seq });
    expect(states).toEqual([]);
    expect(carols.client.connection.socket_id).toBe(socketId);
  });

  it("a hand-made client that subscribes but never signs in is closed, so a removal cannot miss it", async () => {
    const group = await seedGroup(db, alice, [bob]);
    const sly = connectAs(db, realtime, bob.id, { signIn: false });
    clients.push(sly);
    await subscribed(sly, conversationChannel(group));
    // Soketi alone would count the subscription as authentication and keep the socket.
    await connectionState(sly, "disconnected");
    expect(sly.channel(conversationChannel(group)).subscribed).toBe(false);
  });
});
