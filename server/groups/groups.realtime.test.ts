import type Pusher from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing";
import type { Db } from "@/db/types";
import { conversationChannel, userChannel } from "../realtime/channels";
import type { RealtimeEventName, RealtimeEvents } from "../realtime/events";
import { createPersona, type Persona } from "../testing/personas";
import { connectAs, startTestSoketi, subscribed, type TestSoketi } from "../testing/realtime";
import { createGroup } from "./info";
import { removeMember } from "./membership";
import type { GroupDeps } from "./rules";

/** Every event of one kind a client receives on a channel, and a way to wait for a particular one. */
function watch<E extends RealtimeEventName>(client: Pusher, channelName: string, event: E) {
  const seen: RealtimeEvents[E][] = [];
  const waiters: (() => void)[] = [];
  const channel = client.channel(channelName) ?? client.subscribe(channelName);
  channel.bind(event, (data: RealtimeEvents[E]) => {
    seen.push(data);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    seen,
    until(matches: (data: RealtimeEvents[E]) => boolean): Promise<RealtimeEvents[E]> {
      return new Promise((resolve) => {
        const check = () => {
          const found = seen.find(matches);
          if (found) resolve(found);
          else waiters.push(check);
        };
        check();
      });
    },
  };
}

describe("group changes in real time", () => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let deps: GroupDeps;
  let alice: Persona;
  let bob: Persona;
  let outsider: Persona;
  const clients: Pusher[] = [];

  beforeAll(async () => {
    handle = await createTestDb("pglite");
    db = handle.db;
    realtime = await startTestSoketi();
    deps = { publisher: realtime.publisher };
    alice = await createPersona(db, "alice");
    bob = await createPersona(db, "bob");
    outsider = await createPersona(db, "outsider");
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await realtime?.soketi.stop();
    await handle?.close();
  });

  const connect = (p: Persona) => {
    const client = connectAs(db, realtime, p.id);
    clients.push(client);
    return client;
  };

  it("bob hears of a new group and of his removal on his own channel, and cannot subscribe to the group afterwards", async () => {
    const bobs = connect(bob);
    await subscribed(bobs, userChannel(bob.id));
    const hints = watch(bobs, userChannel(bob.id), "sync");
    const listed = watch(bobs, userChannel(bob.id), "conversation.new");

    const group = await createGroup(db, alice.id, { name: "Live", memberIds: [bob.id] }, deps);
    expect(await hints.until((h) => h.version === group.version)).toEqual({ version: group.version });
    expect(await listed.until((e) => e.conversationId === group.id)).toEqual({ conversationId: group.id });
    await subscribed(bobs, conversationChannel(group.id));
    const stream = watch(bobs, conversationChannel(group.id), "message.new");

    const removal = await removeMember(db, alice.id, { conversationId: group.id, userId: bob.id }, deps);
    expect(await hints.until((h) => h.version === removal.version)).toEqual({ version: removal.version });
    const told = await stream.until((m) => "body" in m && m.body === "Alice removed Bob");
    expect(told).toMatchObject({ kind: "system", meta: { type: "member_removed", userId: bob.id } });

    const bobAgain = connect(bob);
    await expect(subscribed(bobAgain, conversationChannel(group.id))).rejects.toThrow(/refused/);
    const outsiders = connect(outsider);
    await expect(subscribed(outsiders, conversationChannel(group.id))).rejects.toThrow(/refused/);
  });
});
