import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing";
import { createPersona, type Persona } from "../testing/personas";
import {
  connectAs,
  connectionState,
  nextEvent,
  signedIn,
  startTestSoketi,
  subscribed,
  type TestSoketi,
} from "../testing/realtime";
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

  // The server on Node 20 hands events to the node in its process; with a Soketi of its own, over HTTP.
  describe.each(["publisher", "httpPublisher"] as const)("through the %s", (which) => {
    it("delivers one event to many channels, past the 100 channels of one HTTP trigger, in order", async () => {
      const client = connectAs(handle.db, realtime, alice.id);
      clients.push(client);
      await subscribed(client, userChannel(alice.id));
      const received: number[] = [];
      const all = new Promise<void>((resolve) =>
        client.channel(userChannel(alice.id)).bind("sync", ({ version }: { version: number }) => {
          received.push(version);
          if (received.length === 3) resolve();
        }),
      );
      // Alice's channel last of 150: other users' channels (nobody listens) fill the first two triggers.
      const others = Array.from({ length: 149 }, (_, i) =>
        userChannel(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`),
      );
      await realtime[which].publish([...others, userChannel(alice.id)], "sync", { version: 1 });
      await realtime[which].publish(userChannel(alice.id), "sync", { version: 2 });
      await realtime[which].publish(userChannel(alice.id), "sync", { version: 3 });
      await all;
      expect(received).toEqual([1, 2, 3]);
      client.channel(userChannel(alice.id)).unbind("sync");
    });

    it("closes every signed-in socket of a user, who signs in again", async () => {
      const client = connectAs(handle.db, realtime, bob.id);
      clients.push(client);
      await signedIn(client);
      const closed = connectionState(client, "disconnected");
      const again = new Promise<void>((resolve) => closed.then(() => signedIn(client).then(resolve)));
      await realtime[which].terminateUserConnections(bob.id);
      await closed;
      await again;
      expect(client.connection.state).toBe("connected");
    });
  });

  it("publishes nothing once the node in this process has stopped: the outbox worker sends it later", async () => {
    const other = await startTestSoketi();
    await other.soketi.stop();
    await expect(other.publisher.publish(userChannel(alice.id), "sync", { version: 1 })).rejects.toThrow(/stopped/);
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
