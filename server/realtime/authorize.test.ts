import { sql } from "drizzle-orm";
import type Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedGroup } from "../testing/conversations";
import { createPersonas, type Persona } from "../testing/personas";
import { connectAs, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { authorizeChannels, MAX_CHANNELS_PER_AUTH, parseChannelAuthRequest } from "./authorize";
import { conversationChannel, userChannel } from "./channels";

describe.each(testDrivers)("channel authorization (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  let group: string;
  const clients: Pusher[] = [];

  beforeAll(async () => {
    handle = await createTestDb(driver);
    realtime = await startTestSoketi();
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
    group = await seedGroup(handle.db, alice, [bob, carol]);
    await handle.db.execute(
      sql`update members set left_at = now(), left_seq = 0 where conversation_id = ${group}::uuid and user_id = ${carol.id}::uuid`,
    );
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await realtime.soketi.stop();
    await handle.close();
  });

  const connect = (who: Persona, onAuthRequest?: (channels: string[]) => void) => {
    const client = connectAs(handle.db, realtime, who.id, { onAuthRequest });
    clients.push(client);
    return client;
  };

  it("lets members subscribe to their conversation's channel", async () => {
    await expect(subscribed(connect(bob), conversationChannel(group))).resolves.toBeUndefined();
  });

  it("refuses an outsider: they are not told about a conversation they are not in", async () => {
    await expect(subscribed(connect(outsider), conversationChannel(group))).rejects.toThrow(/refused/);
  });

  it("refuses a member who left", async () => {
    await expect(subscribed(connect(carol), conversationChannel(group))).rejects.toThrow(/refused/);
  });

  it("refuses an unknown conversation and a malformed channel name", async () => {
    const results = await authorizeChannels(handle.db, realtime.publisher, alice.id, "123.456", [
      conversationChannel(crypto.randomUUID()),
      "private-conversation-not-a-uuid",
      "presence-anything",
    ]);
    expect(Object.values(results).map((r) => ("error" in r ? r.status : 200))).toEqual([403, 403, 403]);
  });

  it("authorizes many channels in one request, answering each separately", async () => {
    const groups = await Promise.all(Array.from({ length: 20 }, (_, i) => seedGroup(handle.db, alice, [bob], `g${i}`)));
    const notMine = await seedGroup(handle.db, outsider, [carol]);
    const requests: string[][] = [];
    const client = connect(alice, (channels) => requests.push(channels));
    await new Promise<void>((resolve) => client.connection.bind("connected", () => resolve()));

    const wanted = [userChannel(alice.id), ...groups.map(conversationChannel)];
    const outcomes = await Promise.allSettled(
      [...wanted, conversationChannel(notMine)].map((c) => subscribed(client, c)),
    );

    expect(requests).toHaveLength(1);
    expect(requests[0]).toHaveLength(22);
    expect(outcomes.slice(0, -1).every((o) => o.status === "fulfilled")).toBe(true);
    expect(outcomes.at(-1)?.status).toBe("rejected");
  });
});

describe("reading a channel auth request", () => {
  const post = (body: string, type: string) => [type, body] as const;

  it("accepts pusher-js's one-channel form", async () => {
    const request = post("socket_id=123.456&channel_name=private-user-x", "application/x-www-form-urlencoded");
    expect(parseChannelAuthRequest(...request)).toEqual({
      socketId: "123.456",
      channels: ["private-user-x"],
      batch: false,
    });
  });

  it("accepts a batch of channels as JSON", async () => {
    const request = post(JSON.stringify({ socket_id: "1.2", channels: ["a", "b"] }), "application/json");
    expect(parseChannelAuthRequest(...request)).toEqual({ socketId: "1.2", channels: ["a", "b"], batch: true });
  });

  it("refuses malformed bodies, forged socket ids and oversized batches with a reason", async () => {
    expect(parseChannelAuthRequest(...post("{not json", "application/json"))).toEqual({
      error: "Request body is not valid JSON",
    });
    expect(parseChannelAuthRequest(...post("socket_id=abc&channel_name=x", "text/plain"))).toMatchObject({
      error: expect.stringMatching(/socket_id/),
    });
    const tooMany = Array.from({ length: MAX_CHANNELS_PER_AUTH + 1 }, (_, i) => `c${i}`);
    expect(
      parseChannelAuthRequest(...post(JSON.stringify({ socket_id: "1.2", channels: tooMany }), "application/json")),
    ).toHaveProperty("error");
  });

  it("names what is wrong in the form the client used, never a type-checker's words", () => {
    expect(
      parseChannelAuthRequest(...post("socket_id=1.2&channel_name=", "application/x-www-form-urlencoded")),
    ).toEqual({
      error: "channel_name: a channel name is empty",
    });
    expect(parseChannelAuthRequest(...post("socket_id=1.2", "application/x-www-form-urlencoded"))).toEqual({
      error: "channel_name is missing or has the wrong type",
    });
    expect(parseChannelAuthRequest(...post("null", "application/json"))).toHaveProperty(
      "error",
      expect.stringMatching(/must be an object/),
    );
  });
});
