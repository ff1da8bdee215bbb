// Section 5: many clients, each in many conversations, reconnect at once.
import { conversationChannel, userChannel } from "@/server/realtime/channels";
import { authRequests, type BenchClient, connectClient, connected, disconnectAll, subscribeAll } from "./clients";
import type { BenchContext, SectionResult } from "./context";
import { seedGroup, seedUsers } from "./seed";
import { mapLimit } from "./stats";

/** Every client has every channel again within this many seconds. */
const TARGET_SECONDS = 5;

export async function reconnectSection(ctx: BenchContext): Promise<SectionResult> {
  const { target, sizes, pool } = ctx;
  const sessions = pool.slice(0, sizes.reconnectClients);
  const ids = sessions.map((s) => s.user.id);
  const groupSize = Math.max(ids.length, sizes.reconnectGroupSize);
  const offline = (await seedUsers(target.db, groupSize - ids.length, "recon", target.passwordHash)).map((u) => u.id);
  ctx.log(`reconnect: seeding ${sizes.reconnectConversations} groups of ${groupSize} (${ids.length} connected)`);
  const conversations: string[] = [];
  for (let i = 0; i < sizes.reconnectConversations; i++) {
    const owner = i % ids.length;
    const members = [...ids.slice(owner), ...ids.slice(0, owner), ...offline];
    conversations.push((await seedGroup(target.db, `reconnect ${i}`, members)).id);
  }
  const channelsFor = (c: BenchClient) => [userChannel(c.session.user.id), ...conversations.map(conversationChannel)];

  ctx.log(`reconnect: connecting ${sessions.length} clients with ${conversations.length + 1} channels each`);
  const clients = sessions.map((s) => connectClient(target, s));
  await Promise.all(clients.map(connected));
  const initial = await mapLimit(clients, 50, (c) =>
    subscribeAll(c, channelsFor(c), sizes.waitSeconds * 1000).then(
      () => true,
      (error: Error) => {
        ctx.log(`reconnect: first connection incomplete: ${error.message}`);
        return false;
      },
    ),
  );
  const initiallySubscribed = initial.filter(Boolean).length;

  const expected = clients.length * (conversations.length + 1);
  let resubscribed = 0;
  let refused = 0;
  let firstRefusal: unknown;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  for (const c of clients) {
    for (const channel of c.pusher.allChannels()) {
      channel.bind("pusher:subscription_succeeded", () => {
        if (++resubscribed === expected) allDone();
      });
      channel.bind("pusher:subscription_error", (error: unknown) => {
        refused++;
        firstRefusal ??= error;
      });
    }
  }
  disconnectAll(clients);
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.pusher.connection.state === "disconnected") resolve();
          else c.pusher.connection.bind("disconnected", () => resolve());
        }),
    ),
  );

  ctx.log("reconnect: every client reconnects at once");
  const before = { requests: authRequests.chorus, channels: authRequests.chorusChannels };
  const start = performance.now();
  for (const c of clients) c.pusher.connect();
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, sizes.waitSeconds * 1000))]);
  const seconds = (performance.now() - start) / 1000;
  const requests = authRequests.chorus - before.requests;
  const channels = authRequests.chorusChannels - before.channels;
  disconnectAll(clients);
  if (refused > 0) ctx.log(`reconnect: ${refused} subscriptions refused, first: ${JSON.stringify(firstRefusal)}`);

  const all = resubscribed >= expected;
  const perClient = requests / clients.length;
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  return {
    data: {
      allSubscribed: all,
      authRequestsPerClient: perClient,
      targets: { seconds: TARGET_SECONDS, authRequestsPerClient: 1 },
      clients: clients.length,
      conversations: conversations.length,
      authRequests: requests,
      channelsAuthorized: channels,
      subscribed: resubscribed,
      expected,
      seconds,
    },
    tables: [
      {
        title: "5. Reconnect",
        workload: `${clients.length} clients, each subscribed to its user channel and ${conversations.length} conversation channels (groups of ${groupSize}), all drop and reconnect at once`,
        columns: ["clients", "channels", "auth HTTP requests", "per client", "subscribed", "until all subscribed"],
        notes: [
          `targets: all subscribed in <= ${TARGET_SECONDS} s (${all ? `all subscribed in ${seconds.toFixed(2)} s: ${verdict(seconds <= TARGET_SECONDS)}` : `NOT all subscribed after ${seconds.toFixed(0)} s: MISSED`}), one auth request per client (${perClient.toFixed(2)}: ${verdict(perClient <= 1)})`,
          `before the drop, ${initiallySubscribed}/${clients.length} clients had every channel subscribed`,
        ],
        rows: [
          [
            clients.length,
            expected,
            requests,
            perClient,
            `${resubscribed}/${expected}${refused ? ` (${refused} refused)` : ""}`,
            all ? `all subscribed in ${seconds.toFixed(2)} s` : `not all after ${seconds.toFixed(2)} s`,
          ],
        ],
      },
    ],
  };
}
