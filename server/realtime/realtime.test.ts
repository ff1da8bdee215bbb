import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing";
import { createPersona, type Persona } from "../testing/personas";
import { connectAs, nextEvent, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { userChannel } from "./channels";
import { createPublisher } from "./publisher";
import type Pusher from "pusher-js";

describe("the embedded Soketi", () => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let alice: Persona;
  let bob: Persona;
  const clients: Pusher[] = [];

  beforeAll(async () => {
    handle = await createTestDb("pglite");
    realtime = await startTestSoketi();
    alice = await createPersona(handle.db, "alice");
    bob = await createPersona(handle.db, "bob");
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await realtime.soketi.stop();
    await handle.close();
  });

  it("keeps cluster discovery on loopback: nothing is broadcast to 255.255.255.255", () => {
    expect(realtime.soketi.discovery.destinations).toEqual(["127.0.0.1"]);
  });

  it("delivers a published event to the user's own channel", async () => {
    const client = connectAs(handle.db, realtime, alice.id);
    clients.push(client);
    await subscribed(client, userChannel(alice.id));
    const received = nextEvent<{ version: number }>(client, userChannel(alice.id), "sync");
    await realtime.publisher.publish(userChannel(alice.id), "sync", { version: 7 });
    expect(await received).toEqual({ version: 7 });
  });

  it("refuses a subscription to another user's channel", async () => {
    const client = connectAs(handle.db, realtime, bob.id);
    clients.push(client);
    await expect(subscribed(client, userChannel(alice.id))).rejects.toThrow(/refused/);
  });

  it("surfaces Soketi's error when it refuses a publish (it answers 200 with the error in the body)", async () => {
    const wrongApp = createPublisher({ ...realtime.config, appId: "no-such-app" });
    await expect(wrongApp.publish(userChannel(alice.id), "sync", { version: 1 })).rejects.toThrow();
  });
});
