import type Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing";
import { requireMembership } from "../messaging/membership";
import { conversationChannel } from "../realtime/channels";
import type { RealtimeEvents } from "../realtime/events";
import { seedGroup } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { connectAs, nextEvent, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { announceTyping } from "./typing";

type Typing = RealtimeEvents["typing"];

describe("who is typing comes from the server", () => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  let group: string;
  const clients: Pusher[] = [];

  beforeAll(async () => {
    handle = await createTestDb("pglite");
    realtime = await startTestSoketi();
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
    group = await seedGroup(handle.db, alice, [bob, carol]);
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await realtime?.soketi.stop();
    await handle?.close();
  });

  const inTheGroup = async (persona: Persona) => {
    const client = connectAs(handle.db, realtime, persona.id);
    clients.push(client);
    await subscribed(client, conversationChannel(group));
    return client;
  };
  const api = (persona: Persona) => callerFor(handle.db, persona, realtime.publisher);

  it("bob cannot trigger client-typing claiming alice: Soketi refuses client events and carol never sees it", async () => {
    const bobs = await inTheGroup(bob);
    const carols = await inTheGroup(carol);
    const seenByCarol: unknown[] = [];
    carols.channel(conversationChannel(group)).bind("client-typing", (data: unknown) => seenByCarol.push(data));

    const refused = new Promise<{ code?: number }>((resolve) =>
      bobs.connection.bind("error", (error: { data?: { code?: number } }) => {
        if (error.data?.code === 4301) resolve(error.data);
      }),
    );
    bobs
      .channel(conversationChannel(group))
      .trigger("client-typing", { userId: alice.id, name: "Alice", typing: true });
    expect(await refused).toMatchObject({ code: 4301 });

    // The server's own typing event for bob arrives; the forged one never did.
    const heard = nextEvent<Typing>(carols, conversationChannel(group), "typing");
    await api(bob).conversation.typing({ conversationId: group, typing: true });
    expect(await heard).toEqual({ userId: bob.id, name: "Bob", typing: true });
    expect(seenByCarol).toEqual([]);
  });

  it("alice's typing reaches carol with alice's id, whatever her input says", async () => {
    const carols = await inTheGroup(carol);
    const heard = nextEvent<Typing>(carols, conversationChannel(group), "typing");
    // The input has no userId or name: extra fields are dropped before the procedure runs.
    const claim = { conversationId: group, typing: true, userId: bob.id, name: "Bob" };
    await api(alice).conversation.typing(claim);
    expect(await heard).toEqual({ userId: alice.id, name: "Alice", typing: true });
  });

  it("lets one start through per 2 s for each member and conversation; stops always pass", async () => {
    const carolTypes = (typing: boolean) => api(carol).conversation.typing({ conversationId: group, typing });
    expect(await carolTypes(true)).toEqual({ sent: true });
    expect(await carolTypes(true)).toEqual({ sent: false });
    expect(await carolTypes(false)).toEqual({ sent: true });
    // After a stop, typing again is news at once.
    expect(await carolTypes(true)).toEqual({ sent: true });
    expect(await carolTypes(false)).toEqual({ sent: true });
  });

  it("is off in groups above the typing limit", async () => {
    const membership = await requireMembership(handle.db, group, bob.id);
    const answer = await announceTyping(handle.db, {
      publisher: realtime.publisher,
      membership,
      typing: true,
      maxMembers: 2,
    });
    expect(answer).toEqual({ sent: false });
  });

  it("an outsider is not told anything and cannot type into the group", async () => {
    await expect(api(outsider).conversation.typing({ conversationId: group, typing: true })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
  });
});
