// Section 2 (and the baseline half of section 7): send throughput with N
// concurrent senders, as a fraction of the durable insert ceiling and a
// multiple of the naive baseline, and send->ack / send->deliver latency at a
// fixed rate.
import { sql } from "drizzle-orm";
import { conversationChannel } from "@/server/realtime/channels";
import { baselineChannel, mirrorConversation } from "./baseline/naive";
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
import { seedGroup, seedUsers } from "./seed";
import { atRate, mapLimit, percentiles, ratio } from "./stats";
import type { Session, Target } from "./target";

export type Impl = "chorus" | "baseline";

/** One send through the product's API (or the baseline's), resolved when acknowledged. */
export function sender(ctx: BenchContext, impl: Impl) {
  return (session: Session, conversationId: string, id: string, body: string) =>
    impl === "chorus"
      ? session.call("mutation", "message.send", { conversationId, clientMsgId: id, body })
      : ctx.baseline.client.send(session.user.id, { conversationId, clientMsgId: id, body });
}

type Throughput = {
  impl: Impl;
  senders: number;
  sent: number;
  errors: number;
  seconds: number;
  perSecond: number;
  ack: ReturnType<typeof percentiles>;
  /** App server CPU (Next.js + embedded Soketi) per acknowledged message. */
  cpuMsPerMessage: number;
};

async function throughput(ctx: BenchContext, impl: Impl, senders: Session[], groups: string[]): Promise<Throughput> {
  const send = sender(ctx, impl);
  const { sendSeconds, sendMaxPerSender } = ctx.sizes;
  const acks: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const cpuBefore = ctx.target.serverCpuSeconds?.() ?? Number.NaN;
  const start = performance.now();
  const deadline = start + sendSeconds * 1000;
  await Promise.all(
    senders.map(async (session, i) => {
      for (let n = 0; n < sendMaxPerSender && performance.now() < deadline; n++) {
        const t0 = performance.now();
        try {
          await send(session, groups[i], clientMsgId(`t${impl[0]}`), `throughput message ${n}`);
          acks.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpuMsPerMessage =
    impl === "chorus"
      ? (((ctx.target.serverCpuSeconds?.() ?? Number.NaN) - cpuBefore) * 1000) / Math.max(1, acks.length)
      : Number.NaN;
  if (firstError)
    ctx.log(`  ${impl} with ${senders.length} senders: ${errors} failed sends, first: ${String(firstError)}`);
  return {
    impl,
    senders: senders.length,
    sent: acks.length,
    errors,
    seconds,
    perSecond: acks.length / seconds,
    ack: percentiles(acks),
    cpuMsPerMessage,
  };
}

type Latency = {
  impl: Impl;
  messages: number;
  rate: number;
  ack: ReturnType<typeof percentiles>;
  deliver: ReturnType<typeof percentiles>;
  delivered: number;
  expected: number;
};

/**
 * Each latency run starts from the same database state: what the runs before it wrote vacuumed
 * and checkpointed now, not by autovacuum and the checkpointer in the middle of whichever
 * implementation happens to run next (it was Chorus's p99 in one run, the baseline's in another).
 */
async function settle(target: Target) {
  if (target.driver !== "postgres") return;
  await target.db.execute(sql`vacuum analyze`);
  await target.db.execute(sql`checkpoint`);
}

async function latency(ctx: BenchContext, impl: Impl, members: Session[], conversationId: string): Promise<Latency> {
  const send = sender(ctx, impl);
  const { latencyMessages, latencyRate, waitSeconds } = ctx.sizes;
  const tracker = new DeliveryTracker(latencyMessages * (members.length - 1));
  track(tracker);
  const acks: number[] = [];
  await atRate(latencyMessages, latencyRate, async (i) => {
    const id = clientMsgId(`l${impl[0]}`);
    const t0 = performance.now();
    tracker.sent(id, t0);
    await send(members[0], conversationId, id, `latency message ${i}`);
    acks.push(performance.now() - t0);
  });
  await tracker.done(waitSeconds * 1000);
  track(null);
  return {
    impl,
    messages: latencyMessages,
    rate: latencyRate,
    ack: percentiles(acks),
    deliver: percentiles(tracker.latencies),
    delivered: tracker.received,
    expected: tracker.expected,
  };
}

/** Targets at the largest sender count: a fifth of the 16-connection insert ceiling, four times the baseline. */
const TARGET_OF_CEILING = 0.2;
const TARGET_OF_BASELINE = 4;

/** `ceiling`: the durable single-row insert rate over `connections` connections, measured earlier in the run. */
export async function sendSection(
  ctx: BenchContext,
  ceiling: { perSecond: number; connections: number },
): Promise<SectionResult & { best: { chorus: number; baseline: number } }> {
  const { target, sizes, pool } = ctx;
  const maxSenders = Math.max(...sizes.senders);
  ctx.log(`send: seeding ${maxSenders} groups of 10`);
  const others = await seedUsers(target.db, maxSenders * 9, "send", target.passwordHash);
  const groups: string[] = [];
  for (let i = 0; i < maxSenders; i++) {
    const g = await seedGroup(target.db, `send ${i}`, [
      pool[i].user.id,
      ...others.slice(i * 9, i * 9 + 9).map((u) => u.id),
    ]);
    await mirrorConversation(target.db, g.id);
    groups.push(g.id);
  }

  const runs: Throughput[] = [];
  for (const n of sizes.senders) {
    for (const impl of ["chorus", "baseline"] as const) {
      ctx.log(`send: ${impl}, ${n} concurrent senders`);
      runs.push(await throughput(ctx, impl, pool.slice(0, n), groups));
    }
  }

  const latencyMembers = pool.slice(0, sizes.latencyGroupSize);
  const latencyGroup = await seedGroup(
    target.db,
    "latency",
    latencyMembers.map((s) => s.user.id),
  );
  await mirrorConversation(target.db, latencyGroup.id);
  const clients: BenchClient[] = latencyMembers.map((s) => connectClient(target, s, ctx.baseline.client.authorize));
  await Promise.all(clients.map(connected));
  await mapLimit(clients, 20, (c) =>
    subscribeAll(c, [conversationChannel(latencyGroup.id), baselineChannel(c.session.user.id)]),
  );
  const latencies: Latency[] = [];
  for (const impl of ["chorus", "baseline"] as const) {
    await settle(ctx.target);
    ctx.log(`send: ${impl} latency at ${sizes.latencyRate}/s`);
    latencies.push(await latency(ctx, impl, latencyMembers, latencyGroup.id));
  }
  disconnectAll(clients);

  const by = (impl: Impl, n: number) => runs.find((r) => r.impl === impl && r.senders === n);
  const best = {
    chorus: Math.max(...runs.filter((r) => r.impl === "chorus").map((r) => r.perSecond)),
    baseline: Math.max(...runs.filter((r) => r.impl === "baseline").map((r) => r.perSecond)),
  };
  const [cl, bl] = latencies;
  const largest = by("chorus", maxSenders)?.perSecond ?? Number.NaN;
  const ofCeiling = ratio(largest, ceiling.perSecond);
  const ofBaseline = ratio(largest, by("baseline", maxSenders)?.perSecond ?? Number.NaN);
  const verdict = (value: number, target: number) =>
    !Number.isFinite(value) ? "n/a" : value >= target ? "met" : "MISSED";
  return {
    best,
    data: {
      throughput: runs,
      latency: latencies,
      ceiling,
      atMaxSenders: {
        senders: maxSenders,
        perSecond: largest,
        ofCeiling,
        ofBaseline,
        targetOfCeiling: TARGET_OF_CEILING,
        targetOfBaseline: TARGET_OF_BASELINE,
      },
    },
    tables: [
      {
        title: "2. Send throughput",
        workload: `N senders, each in a closed loop (send, await the ack) into its own 10-member group, for ${sizes.sendSeconds} s or ${sizes.sendMaxPerSender} messages each; acknowledged = persisted and published`,
        columns: [
          "senders",
          "Chorus msg/s",
          "ack p50",
          "ack p99",
          "app CPU ms/msg",
          "errors",
          "baseline msg/s",
          "baseline ack p50",
          "Chorus/baseline",
          `of ${ceiling.connections}-conn ceiling`,
        ],
        rows: sizes.senders.map((n) => {
          const c = by("chorus", n);
          const b = by("baseline", n);
          return [
            n,
            c?.perSecond ?? Number.NaN,
            c?.ack.p50 ?? Number.NaN,
            c?.ack.p99 ?? Number.NaN,
            c?.cpuMsPerMessage ?? Number.NaN,
            (c?.errors ?? 0) + (b?.errors ?? 0),
            b?.perSecond ?? Number.NaN,
            b?.ack.p50 ?? Number.NaN,
            ratio(c?.perSecond ?? Number.NaN, b?.perSecond ?? Number.NaN),
            ratio(c?.perSecond ?? Number.NaN, ceiling.perSecond),
          ];
        }),
        notes: [
          `ceiling = durable single-row INSERTs/s over ${ceiling.connections} connections, measured before this section: ${Math.round(ceiling.perSecond)}/s (section 8)`,
          `targets at ${maxSenders} senders: >= ${TARGET_OF_CEILING}x the ceiling (${ofCeiling.toFixed(3)}: ${verdict(ofCeiling, TARGET_OF_CEILING)}), >= ${TARGET_OF_BASELINE}x the baseline (${ofBaseline.toFixed(2)}: ${verdict(ofBaseline, TARGET_OF_BASELINE)})`,
          "app CPU = the app server process (Next.js, the API and the embedded Soketi), per acknowledged Chorus message",
        ],
      },
      {
        title: "2. Send latency (ms)",
        workload: `one sender, ${sizes.latencyMessages} messages at ${sizes.latencyRate}/s into a ${sizes.latencyGroupSize}-member group whose members are all connected (deliver = at every other member)`,
        columns: ["", "ack p50", "ack p95", "ack p99", "deliver p50", "deliver p95", "deliver p99", "delivered"],
        rows: latencies.map((l) => [
          l.impl === "chorus" ? "Chorus" : "baseline",
          l.ack.p50,
          l.ack.p95,
          l.ack.p99,
          l.deliver.p50,
          l.deliver.p95,
          l.deliver.p99,
          `${l.delivered}/${l.expected}`,
        ]),
        notes: [`Chorus/baseline deliver p50: ${ratio(cl.deliver.p50, bl.deliver.p50).toFixed(2)}`],
      },
    ],
  };
}
