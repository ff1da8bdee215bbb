// Section 3 (and its baseline half of section 7, and the Soketi ceiling of
// section 8): one group of each size, as many members connected as the bench
// holds, send->deliver at every connected receiver and rows written per message.
import { conversationChannel } from "@/server/realtime/channels";
import { BASELINE_TABLES, baselineChannel, mirrorConversation } from "./baseline/naive";
import {
  type BenchClient,
  connectClient,
  connected,
  DeliveryTracker,
  disconnectAll,
  subscribeAll,
  track,
} from "./clients";
import { type BenchContext, clientMsgId, type SectionResult } from "./context";
import { BASELINE_ANCHORS, CHORUS_ANCHORS, CHORUS_TABLES, settledWrites } from "./pgstat";
import { seedGroup, seedUsers } from "./seed";
import { sender, type Impl } from "./send";
import { atRate, mapLimit, percentiles, ratio } from "./stats";

const CEILING_CHANNEL = "bench-ceiling";

type Fanout = {
  impl: Impl;
  groupSize: number;
  receivers: number;
  messages: number;
  errors: number;
  delivered: number;
  expected: number;
  deliver: ReturnType<typeof percentiles>;
  rowsPerMessage: number;
  sendSeconds: number;
};

export type FanoutResult = SectionResult & {
  ceiling: {
    subscribers: number;
    deliver: ReturnType<typeof percentiles>;
    delivered: number;
    expected: number;
    deliveriesPerSecond: number;
  };
  chorusLargest?: Fanout;
};

export async function fanoutSection(ctx: BenchContext): Promise<FanoutResult> {
  const { target, sizes, pool } = ctx;
  const connectedCount = Math.min(sizes.fanoutClients, pool.length);
  const members = pool.slice(0, connectedCount);
  const groups: { size: number; id: string; connectedMembers: number }[] = [];
  for (const size of sizes.fanoutGroups) {
    const connectedMembers = Math.min(size, connectedCount);
    const offline = await seedUsers(target.db, size - connectedMembers, `fan${size}`, target.passwordHash);
    const g = await seedGroup(target.db, `fan-out ${size}`, [
      ...members.slice(0, connectedMembers).map((s) => s.user.id),
      ...offline.map((u) => u.id),
    ]);
    await mirrorConversation(target.db, g.id);
    groups.push({ size, id: g.id, connectedMembers });
  }

  ctx.log(`fan-out: connecting ${connectedCount} pusher-js clients`);
  const connectStart = performance.now();
  const clients: BenchClient[] = members.map((s) => connectClient(target, s, ctx.baseline.client.authorize));
  await Promise.all(clients.map(connected));
  await mapLimit(clients, 50, (c, i) =>
    subscribeAll(c, [
      ...groups.filter((g) => i < g.connectedMembers).map((g) => conversationChannel(g.id)),
      baselineChannel(c.session.user.id),
      CEILING_CHANNEL,
    ]),
  );
  const connectSeconds = (performance.now() - connectStart) / 1000;
  ctx.log(`fan-out: ${connectedCount} clients connected and subscribed in ${connectSeconds.toFixed(1)} s`);

  const runs: Fanout[] = [];
  for (const g of groups) {
    for (const impl of ["chorus", "baseline"] as const) {
      ctx.log(`fan-out: ${impl}, group of ${g.size} (${g.connectedMembers} connected)`);
      const tables = impl === "chorus" ? CHORUS_TABLES : BASELINE_TABLES;
      const send = sender(ctx, impl);
      const anchor = impl === "chorus" ? CHORUS_ANCHORS : BASELINE_ANCHORS;
      const before = await settledWrites(target.db, tables, anchor);
      const tracker = new DeliveryTracker(sizes.fanoutMessages * (g.connectedMembers - 1));
      track(tracker);
      let sent = 0;
      let errors = 0;
      const start = performance.now();
      await atRate(sizes.fanoutMessages, sizes.fanoutRate, async (i) => {
        const id = clientMsgId(`f${impl[0]}`);
        tracker.sent(id);
        try {
          await send(pool[0], g.id, id, `fan-out message ${i}`);
          sent++;
        } catch (error) {
          errors++;
          if (errors === 1) ctx.log(`  ${impl} send failed: ${String(error)}`);
        }
      });
      const sendSeconds = (performance.now() - start) / 1000;
      await tracker.done(sizes.waitSeconds * 1000);
      track(null);
      const after = await settledWrites(target.db, tables, anchor);
      runs.push({
        impl,
        groupSize: g.size,
        receivers: g.connectedMembers - 1,
        messages: sizes.fanoutMessages,
        errors,
        delivered: tracker.received,
        expected: tracker.expected,
        deliver: percentiles(tracker.latencies),
        rowsPerMessage: (after.writes - before.writes) / Math.max(1, sent),
        sendSeconds,
      });
    }
  }
  // The ceiling: Soketi's own fan-out, triggered straight to a public channel, once the
  // connection storm has settled (measured last, like-for-like with the runs above).
  const ceilingTracker = new DeliveryTracker(sizes.fanoutMessages * connectedCount);
  track(ceilingTracker);
  const ceilingStart = performance.now();
  await atRate(sizes.fanoutMessages, sizes.fanoutRate, async () => {
    const id = clientMsgId("ceiling");
    ceilingTracker.sent(id);
    await target.publisher.publish(CEILING_CHANNEL, "message.new", {
      id,
      conversationId: "ceiling",
      seq: 0,
      senderId: "ceiling",
      senderName: null,
      senderAvatarUrl: null,
      clientMsgId: id,
      kind: "text",
      body: "raw trigger",
      meta: null,
      createdAt: new Date().toISOString(),
    });
  });
  await ceilingTracker.done(sizes.waitSeconds * 1000);
  track(null);
  const ceiling = {
    subscribers: connectedCount,
    deliver: percentiles(ceilingTracker.latencies),
    delivered: ceilingTracker.received,
    expected: ceilingTracker.expected,
    deliveriesPerSecond: ceilingTracker.received / ((performance.now() - ceilingStart) / 1000),
  };

  disconnectAll(clients);

  const chorus = runs.filter((r) => r.impl === "chorus");
  const baseline = runs.filter((r) => r.impl === "baseline");
  const rowsEqual = new Set(chorus.map((r) => r.rowsPerMessage)).size === 1;
  return {
    ceiling,
    chorusLargest: chorus.at(-1),
    data: { connectedClients: connectedCount, connectSeconds, runs, rowsPerMessageEqual: rowsEqual, ceiling },
    tables: [
      {
        title: "3. Fan-out",
        workload: `one group per size; ${connectedCount} pusher-js clients connected in this process (one websocket each), ${sizes.fanoutMessages} messages per group at ${sizes.fanoutRate}/s; deliver latency at every connected receiver; rows = inserts+updates+deletes in pg_stat_user_tables per message`,
        columns: [
          "group",
          "receivers",
          "delivered",
          "deliver p50",
          "deliver p99",
          "rows/msg",
          "baseline delivered",
          "baseline p50",
          "baseline p99",
          "baseline rows/msg",
        ],
        rows: chorus.map((c, i) => {
          const b = baseline[i];
          return [
            c.groupSize,
            c.receivers,
            `${c.delivered}/${c.expected}${c.errors ? ` (${c.errors} failed)` : ""}`,
            c.deliver.p50,
            c.deliver.p99,
            c.rowsPerMessage,
            `${b.delivered}/${b.expected}${b.errors ? ` (${b.errors} failed)` : ""}`,
            b.deliver.p50,
            b.deliver.p99,
            b.rowsPerMessage,
          ];
        }),
        notes: [
          `Chorus rows written per message ${rowsEqual ? "are equal" : "DIFFER"} across group sizes: ${chorus.map((c) => c.rowsPerMessage).join(", ")}`,
          `${connectedCount} clients connected and subscribed in ${connectSeconds.toFixed(1)} s`,
        ],
      },
    ],
  };
}

export function fanoutBaselineRows(result: FanoutResult) {
  const runs = (result.data.runs as Fanout[]) ?? [];
  const chorus = runs.filter((r) => r.impl === "chorus");
  return chorus.map((c) => {
    const b = runs.find((r) => r.impl === "baseline" && r.groupSize === c.groupSize);
    return {
      groupSize: c.groupSize,
      deliverP50: ratio(c.deliver.p50, b?.deliver.p50 ?? Number.NaN),
      deliverP99: ratio(c.deliver.p99, b?.deliver.p99 ?? Number.NaN),
      rows: ratio(c.rowsPerMessage, b?.rowsPerMessage ?? Number.NaN),
      sendSeconds: ratio(c.sendSeconds, b?.sendSeconds ?? Number.NaN),
    };
  });
}
