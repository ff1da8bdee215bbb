import { sql } from "drizzle-orm";
import type Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { RealtimeEvents } from "../realtime/events";
import { conversationChannel, userChannel } from "../realtime/channels";
import { seedCrowd, seedGroup } from "../testing/conversations";
import { callerFor, createPersona, type Persona } from "../testing/personas";
import { say, useTestPublisher } from "../testing/read-state";
import { connectAs, nextEvent, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { markRead } from "./read-state";
import { createReceiptsNotifier } from "./receipts-notifier";

describe.each(testDrivers)("read state reaching open clients (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let group: string;
  const clients: Pusher[] = [];

  const connect = async (who: Persona, channel: string) => {
    const client = connectAs(handle.db, realtime, who.id);
    clients.push(client);
    await subscribed(client, channel);
    return client;
  };

  beforeAll(async () => {
    handle = await createTestDb(driver);
    realtime = await startTestSoketi();
    useTestPublisher(realtime.publisher);
    [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((n) => createPersona(handle.db, n)));
    group = await seedGroup(handle.db, alice, [bob, carol]);
    await say(handle.db, group, bob, ["one", "two", "three"]);
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await realtime.soketi.stop();
    await handle.close();
  });

  it("clears alice's badge on her other device when she reads on one", async () => {
    const laptop = await connect(alice, userChannel(alice.id));
    const told = nextEvent<RealtimeEvents["read.changed"]>(laptop, userChannel(alice.id), "read.changed");
    await callerFor(handle.db, alice).message.markRead({ conversationId: group, seq: 2 });
    expect(await told).toEqual({ conversationId: group, readSeq: 2 });
  });

  it("tells the sender's open conversation that receipts changed when someone reads", async () => {
    const bobsWindow = await connect(bob, conversationChannel(group));
    const told = nextEvent<RealtimeEvents["receipts.changed"]>(
      bobsWindow,
      conversationChannel(group),
      "receipts.changed",
    );
    await callerFor(handle.db, carol).message.markRead({ conversationId: group, seq: 3 });
    expect(await told).toEqual({ conversationId: group, upToSeq: 3 });
  });

  it("does not tell an outsider about reads in a conversation they are not in", async () => {
    const outsider = await createPersona(handle.db, "outsider");
    const client = connectAs(handle.db, realtime, outsider.id);
    clients.push(client);
    await expect(subscribed(client, conversationChannel(group))).rejects.toThrow(/refused/);
    await expect(subscribed(client, userChannel(alice.id))).rejects.toThrow(/refused/);
  });

  it("tells a conversation about delivered messages too", async () => {
    const dave = await createPersona(handle.db, "dave");
    const other = await seedGroup(handle.db, bob, [dave]);
    await say(handle.db, other, bob, ["ping"]);
    const bobsWindow = await connect(bob, conversationChannel(other));
    const told = nextEvent<RealtimeEvents["receipts.changed"]>(
      bobsWindow,
      conversationChannel(other),
      "receipts.changed",
    );
    await callerFor(handle.db, dave).message.markDelivered({ items: [{ conversationId: other, seq: 1 }] });
    expect(await told).toEqual({ conversationId: other, upToSeq: 1 });
  });

  it("coalesces a burst of thirty readers into a couple of receipts.changed events", async () => {
    const busy = await seedGroup(handle.db, bob, [alice]);
    await seedCrowd(handle.db, busy, 30);
    await say(handle.db, busy, bob, ["1", "2", "3", "4", "5"]);
    const readers = await queryRows<{ user_id: string }>(
      handle.db,
      sql`select user_id from members where conversation_id = ${busy}::uuid and user_id not in (${bob.id}::uuid, ${alice.id}::uuid)`,
    );
    expect(readers).toHaveLength(30);

    const bobsWindow = await connect(bob, conversationChannel(busy));
    const received: number[] = [];
    let expected = Number.POSITIVE_INFINITY;
    let allArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    bobsWindow
      .channel(conversationChannel(busy))
      .bind("receipts.changed", (data: RealtimeEvents["receipts.changed"]) => {
        received.push(data.upToSeq);
        if (received.length >= expected) allArrived();
      });

    // A window longer than the burst; flush() then plays the trailing edge the timer would.
    const notifier = createReceiptsNotifier({ windowMs: 60_000 });
    await Promise.all(
      readers.map((r, i) =>
        markRead(
          handle.db,
          { userId: r.user_id, conversationId: busy, seq: (i % 5) + 1 },
          { publisher: realtime.publisher, notifier },
        ),
      ),
    );
    await notifier.flush();
    expected = notifier.published;
    if (received.length >= expected) allArrived();
    await arrived;

    expect(notifier.published).toBe(2);
    expect(received).toHaveLength(notifier.published);
    expect(Math.max(...received)).toBe(5);
  });

  it("tells alice's other device when she mutes a conversation", async () => {
    const phone = await connect(alice, userChannel(alice.id));
    const told = nextEvent<RealtimeEvents["notifications.changed"]>(
      phone,
      userChannel(alice.id),
      "notifications.changed",
    );
    await callerFor(handle.db, alice).conversation.mute({ conversationId: group, muted: true });
    expect(await told).toEqual({
      conversationId: group,
      level: "none",
      levelSet: "none",
      snoozeUntil: null,
      muted: true,
    });
  });
});
