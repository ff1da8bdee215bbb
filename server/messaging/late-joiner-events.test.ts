import type Pusher from "pusher-js";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type TestDb, testDrivers } from "@/db/testing";
import { conversationChannel } from "../realtime/channels";
import { seedGroup } from "../testing/conversations";
import { messagingSuite } from "../testing/messaging-suite";
import type { Persona } from "../testing/personas";

// Events go to a conversation's channel, which every current member hears, also one
// who joined later and may not read what came before. Events about those older
// messages carry ids only; each client reads them through history or
// message.changes, which apply its own window.
describe.each(testDrivers)("a member who joined later is not told about messages from before (%s)", (driver) => {
  const suite = messagingSuite(driver, "alice", "bob", "carol");
  const { api, send, connect } = suite;
  let handle: TestDb;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  beforeAll(() => {
    handle = suite.handle;
    [alice, bob, carol] = suite.personas;
  });

  /** Every event carol's client receives on the channel, as raw text. */
  const listen = async (who: Persona, conversationId: string) => {
    const client = await connect(who, conversationChannel(conversationId));
    const heard: string[] = [];
    client.channel(conversationChannel(conversationId))?.bind_global((event: string, data: unknown) => {
      if (!event.startsWith("pusher:")) heard.push(`${event} ${JSON.stringify(data)}`);
    });
    return { client, heard };
  };

  /** Every `name` event on the channel, to pick the one about a seq once it has come. */
  const collect = <T extends { seq: number }>(client: Pusher, conversationId: string, name: string) => {
    const got: T[] = [];
    client.channel(conversationChannel(conversationId))?.bind(name, (data: T) => got.push(data));
    return (seq: number) =>
      vi.waitFor(
        () => {
          const found = got.find((e) => e.seq === seq);
          if (!found) throw new Error(`no ${name} about seq ${seq} yet`);
          return found;
        },
        { timeout: 10_000, interval: 20 },
      );
  };

  async function groupWithLateCarol() {
    const group = await seedGroup(handle.db, alice, [bob]);
    const secret = await send(alice, group, "the plan before carol came");
    await api(alice).group.addMembers({ conversationId: group, userIds: [carol.id] });
    return { group, secret };
  }

  it("a reply quoting a message from before carol joined reaches her as ids only, and history shows her the reply without the quote", async () => {
    const { group, secret } = await groupWithLateCarol();
    const carols = await listen(carol, group);
    const about = collect<{ ref?: true; seq: number }>(carols.client, group, "message.new");
    const reply = await send(bob, group, "agreed", secret.seq);
    expect(await about(reply.seq)).toEqual({
      id: expect.any(String),
      conversationId: group,
      seq: reply.seq,
      ref: true,
    });
    expect(carols.heard.join("\n")).not.toContain("the plan before carol came");
    const page = await api(carol).message.history({ conversationId: group, afterSeq: reply.seq - 1 });
    const seen = page.messages.find((m) => m.seq === reply.seq);
    expect(seen?.body).toBe("agreed");
    expect(JSON.stringify(seen)).not.toContain("the plan before carol came");
    // Bob, who saw the original, reads the quote in history.
    const bobs = await api(bob).message.history({ conversationId: group, afterSeq: reply.seq - 1 });
    expect(bobs.messages.find((m) => m.seq === reply.seq)?.replyTo).toMatchObject({
      preview: "the plan before carol came",
    });
  });

  it("an edit of a message from before carol joined reaches her as ids only, and her message.changes leaves it out", async () => {
    const { group, secret } = await groupWithLateCarol();
    const carols = await listen(carol, group);
    const about = collect<{ ref?: true; seq: number }>(carols.client, group, "message.updated");
    await api(alice).message.edit({ conversationId: group, seq: secret.seq, body: "the revised plan" });
    expect(await about(secret.seq)).toMatchObject({ conversationId: group, seq: secret.seq, ref: true });
    expect(carols.heard.join("\n")).not.toContain("revised plan");
    const changes = await api(carol).message.changes({ conversationId: group, since: 0 });
    expect(JSON.stringify(changes)).not.toContain("revised plan");
  });

  it("events about messages every member may see still carry their content", async () => {
    const { group } = await groupWithLateCarol();
    const shared = await send(alice, group, "welcome carol");
    const carols = await listen(carol, group);
    const newOnes = collect<{ seq: number; body?: string; replyTo?: { preview: string } }>(
      carols.client,
      group,
      "message.new",
    );
    const reply = await send(bob, group, "hi carol", shared.seq);
    expect(await newOnes(reply.seq)).toMatchObject({ body: "hi carol", replyTo: { preview: "welcome carol" } });
    const updates = collect<{ seq: number; body?: string }>(carols.client, group, "message.updated");
    await api(alice).message.edit({ conversationId: group, seq: shared.seq, body: "welcome, carol!" });
    expect(await updates(shared.seq)).toMatchObject({ body: "welcome, carol!" });
  });
});
