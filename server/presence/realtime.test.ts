import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:http";
import { eq } from "drizzle-orm";
import type Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTypingReceiver, createTypingSender, type TypingPayload, type TypingUser } from "@/components/typing";
import { users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { conversationChannel, userChannel } from "../realtime/channels";
import type { RealtimeEvents } from "../realtime/events";
import { callerFor, createPersona, type Persona } from "../testing/personas";
import { connectAs, nextEvent, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { startPresenceSweeper } from "./sweeper";
import { dmBetween, groupOf } from "./testing";
import { heartbeat, setStatus, sweepExpired } from "./transitions";
import { handlePusherWebhook } from "./webhook";

type WebhookEvent = { name: string; channel?: string };
type Delivered = { timeMs: number; events: WebhookEvent[]; status: number };

describe.each(testDrivers)("presence and typing over a real Soketi (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let hooks: Server;
  const webhooks = new EventEmitter();
  const delivered: Delivered[] = [];
  const clients: Pusher[] = [];
  let alice: Persona;
  let bob: Persona;
  let outsider: Persona;
  let dm: string;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    // Soketi posts its webhooks here; the route's handler applies them.
    hooks = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const header = (name: string) => (typeof req.headers[name] === "string" ? req.headers[name] : undefined);
      const response = await handlePusherWebhook(
        { rawBody: body, key: header("x-pusher-key"), signature: header("x-pusher-signature") },
        {
          db: handle.db,
          publisher: realtime.publisher,
          credentials: { key: realtime.config.key, secret: realtime.config.secret },
        },
      );
      res.writeHead(response.status, { "content-type": "application/json" }).end(JSON.stringify(response.body));
      const parsed = JSON.parse(body) as { time_ms: number; events: WebhookEvent[] };
      const entry = { timeMs: parsed.time_ms, events: parsed.events, status: response.status };
      delivered.push(entry);
      webhooks.emit("delivered", entry);
    });
    await new Promise<void>((resolve) => hooks.listen(0, "127.0.0.1", resolve));
    const { port } = hooks.address() as { port: number };
    realtime = await startTestSoketi({ webhookUrl: `http://127.0.0.1:${port}/api/pusher/webhook` });
    alice = await createPersona(handle.db, "alice");
    bob = await createPersona(handle.db, "bob");
    outsider = await createPersona(handle.db, "outsider");
    dm = await dmBetween(handle.db, alice, bob);
  });

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await realtime.soketi.stop();
    await new Promise<void>((resolve, reject) => hooks.close((error) => (error ? reject(error) : resolve())));
    await handle.close();
  });

  const connect = (persona: Persona) => {
    const client = connectAs(handle.db, realtime, persona.id);
    clients.push(client);
    return client;
  };

  /** Resolves once a webhook carrying this event for this channel has been applied. */
  const webhookApplied = (name: string, channel: string) =>
    new Promise<Delivered>((resolve) => {
      const onDelivered = (entry: Delivered) => {
        if (!entry.events.some((e) => e.name === name && e.channel === channel)) return;
        webhooks.off("delivered", onDelivered);
        resolve(entry);
      };
      webhooks.on("delivered", onDelivered);
    });

  const presenceOf = async (persona: Persona) => {
    const [row] = await handle.db.select().from(users).where(eq(users.id, persona.id));
    return row;
  };

  it("flips alice online when she connects and offline, last seen then, when she disconnects; bob hears both on their DM", async () => {
    const bobClient = connect(bob);
    await subscribed(bobClient, conversationChannel(dm));

    const occupied = webhookApplied("channel_occupied", userChannel(alice.id));
    const heardOnline = nextEvent<RealtimeEvents["presence"]>(bobClient, conversationChannel(dm), "presence");
    const aliceClient = connect(alice);
    await subscribed(aliceClient, userChannel(alice.id));
    expect((await occupied).status).toBe(200);
    expect((await presenceOf(alice)).presenceStatus).toBe("online");
    expect(await heardOnline).toMatchObject({ userId: alice.id, status: "online" });

    const vacated = webhookApplied("channel_vacated", userChannel(alice.id));
    const heardOffline = nextEvent<RealtimeEvents["presence"]>(bobClient, conversationChannel(dm), "presence");
    aliceClient.disconnect();
    const webhook = await vacated;
    const row = await presenceOf(alice);
    expect(row.presenceStatus).toBe("offline");
    expect(row.lastSeenAt).toEqual(new Date(webhook.timeMs));
    expect(await heardOffline).toEqual({
      userId: alice.id,
      status: "offline",
      lastSeenAt: new Date(webhook.timeMs).toISOString(),
    });
  });

  it("keeps alice online while a second tab stays connected", async () => {
    const firstTab = connect(alice);
    const occupied = webhookApplied("channel_occupied", userChannel(alice.id));
    await subscribed(firstTab, userChannel(alice.id));
    await occupied;
    const secondTab = connect(alice);
    await subscribed(secondTab, userChannel(alice.id));

    const vacated = webhookApplied("channel_vacated", userChannel(alice.id));
    firstTab.disconnect();
    const lastTabClosedAt = Date.now();
    secondTab.disconnect();
    const webhook = await vacated;
    // Soketi only reports the channel vacated once the last subscriber left.
    expect(webhook.timeMs).toBeGreaterThanOrEqual(lastTabClosedAt);
    expect((await presenceOf(alice)).presenceStatus).toBe("offline");
  });

  it("tells bob alice went offline when her heartbeat expired without a webhook (a crashed browser)", async () => {
    const bobClient = connect(bob);
    await subscribed(bobClient, conversationChannel(dm));
    const longAgo = new Date(Date.now() - 10 * 60_000);
    const heardOnline = nextEvent<RealtimeEvents["presence"]>(bobClient, conversationChannel(dm), "presence");
    await heartbeat(handle.db, alice.id, { publisher: realtime.publisher, now: longAgo, ttlSeconds: 30 });
    expect(await heardOnline).toMatchObject({ userId: alice.id, status: "online" });

    const heardOffline = nextEvent<RealtimeEvents["presence"]>(bobClient, conversationChannel(dm), "presence");
    const sweep = await sweepExpired(handle.db, { publisher: realtime.publisher, ttlSeconds: 30 });
    expect(sweep.swept).toBeGreaterThanOrEqual(1);
    expect(await heardOffline).toEqual({ userId: alice.id, status: "offline", lastSeenAt: longAgo.toISOString() });
  });

  it("runs the sweeper as a background worker that tells bob when alice's heartbeat ran out", async () => {
    const bobClient = connect(bob);
    await subscribed(bobClient, conversationChannel(dm));
    await heartbeat(handle.db, alice.id, {
      publisher: realtime.publisher,
      now: new Date(Date.now() - 10 * 60_000),
    });
    const heardOffline = new Promise<RealtimeEvents["presence"]>((resolve) => {
      bobClient.channel(conversationChannel(dm)).bind("presence", (event: RealtimeEvents["presence"]) => {
        if (event.userId === alice.id && event.status === "offline") resolve(event);
      });
    });
    const worker = startPresenceSweeper(handle.db, realtime.publisher, { intervalMs: 20 });
    try {
      expect(await heardOffline).toMatchObject({ userId: alice.id, status: "offline" });
      expect((await presenceOf(alice)).presenceStatus).toBe("offline");
    } finally {
      await worker.stop();
    }
  });

  it("tells the members of a small group, on the group channel, that alice is busy", async () => {
    const carol = await createPersona(handle.db, "carol");
    const group = await groupOf(handle.db, [alice, bob, carol]);
    const carolClient = connect(carol);
    await subscribed(carolClient, conversationChannel(group));
    await heartbeat(handle.db, alice.id, { publisher: realtime.publisher });
    const heard = nextEvent<RealtimeEvents["presence"]>(
      carolClient,
      conversationChannel(group),
      "presence",
      (p) => p.status === "busy",
    );
    await setStatus(handle.db, alice.id, "busy", { publisher: realtime.publisher });
    expect(await heard).toMatchObject({ userId: alice.id, status: "busy" });
    await setStatus(handle.db, alice.id, null, { publisher: realtime.publisher });
  });

  it("is sent webhooks for users' own channels, never a request for conversation channels alone", () => {
    // Soketi's filter decides whether a gathered batch is sent; a batch it sends carries every event
    // gathered with it, which the handler ignores unless it is a user's channel.
    expect(delivered.length).toBeGreaterThan(0);
    for (const d of delivered) {
      expect(d.events.some((e) => (e.channel ?? "").startsWith("private-user-"))).toBe(true);
      expect(d.status).toBe(200);
    }
  });

  describe("typing", () => {
    it("reaches the other member of the DM through the server, throttled, and clears when alice stops", async () => {
      const aliceClient = connect(alice);
      const bobClient = connect(bob);
      await subscribed(aliceClient, conversationChannel(dm));
      await subscribed(bobClient, conversationChannel(dm));

      const received: TypingPayload[] = [];
      const changes: TypingUser[][] = [];
      const receiver = createTypingReceiver({ selfId: bob.id, onChange: (u) => changes.push(u) });
      const bobChannel = bobClient.channel(conversationChannel(dm));
      bobChannel.bind("typing", (payload: TypingPayload) => {
        received.push(payload);
        receiver.receive(payload);
      });

      let clock = 1_000_000;
      const alicesApi = callerFor(handle.db, alice, realtime.publisher);
      let last: Promise<unknown> = Promise.resolve();
      const sender = createTypingSender({
        send: (typing) => {
          last = last.then(() => alicesApi.conversation.typing({ conversationId: dm, typing }));
          return true;
        },
        clock: { now: () => clock },
      });
      const started = nextEvent<TypingPayload>(bobClient, conversationChannel(dm), "typing");
      sender.notify();
      expect(await started).toEqual({ userId: alice.id, name: "Alice", typing: true });
      expect(receiver.users()).toEqual([{ userId: alice.id, name: "Alice" }]);

      // Keystrokes within 3 s send nothing more.
      clock += 1000;
      sender.notify();
      clock += 1000;
      sender.notify();
      const stopped = nextEvent<TypingPayload>(bobClient, conversationChannel(dm), "typing");
      sender.stop();
      expect(await stopped).toEqual({ userId: alice.id, name: "Alice", typing: false });
      // Alice's calls go one at a time: everything she sent is in by now.
      expect(received.map((p) => p.typing)).toEqual([true, false]);
      expect(changes).toEqual([[{ userId: alice.id, name: "Alice" }], []]);
      receiver.dispose();
      sender.dispose();
    });

    it("never reaches an outsider: he cannot subscribe to the DM's channel", async () => {
      const outsiderClient = connect(outsider);
      await expect(subscribed(outsiderClient, conversationChannel(dm))).rejects.toThrow(/refused/);
    });
  });
});
