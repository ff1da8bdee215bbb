// The whole bench over a target: every section, its tables and the JSON.
import os from "node:os";
import { baselineClient, createBaselineTables, mirrorConversation, startBaselineServer } from "./baseline/naive";
import { rawInsertRates } from "./ceiling";
import { type BenchContext, clientMsgId } from "./context";
import { fanoutBaselineRows, fanoutSection } from "./fanout";
import { floorSection } from "./floor";
import { footprintSection } from "./footprint";
import { heartbeatsSection } from "./heartbeats";
import { pushSection } from "./push";
import { readsSection } from "./reads";
import { reconnectSection } from "./reconnect";
import { searchSection } from "./search";
import { seedGroup, seedUsers } from "./seed";
import { sendSection } from "./send";
import type { Sizes } from "./sizes";
import { mapLimit, ratio, renderTable, type Table } from "./stats";
import type { Target } from "./target";

export type BenchReport = {
  mode: Sizes["name"];
  target: Target["mode"];
  driver: string;
  machine: { cpus: number; memoryGiB: number; node: string; platform: string };
  startedAt: string;
  seconds: number;
  sections: Partial<Record<SectionName | "baseline" | "ceiling", Record<string, unknown>>>;
  tables: Table[];
};

export const SECTION_NAMES = [
  "floor",
  "send",
  "fanout",
  "reads",
  "reconnect",
  "heartbeats",
  "push",
  "footprint",
  "search",
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

/** Users signed in with username and password; the rest get session cookies minted with the server's secret. */
const CREDENTIAL_SIGN_INS = 50;

/** `print` shows each section's tables as soon as it is measured. */
export async function runBench(
  target: Target,
  sizes: Sizes,
  log: (line: string) => void,
  print: (text: string) => void = () => {},
  only: ReadonlySet<SectionName> = new Set(SECTION_NAMES),
): Promise<BenchReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const poolSize = Math.max(
    ...sizes.senders,
    sizes.fanoutClients,
    sizes.reconnectClients,
    sizes.latencyGroupSize,
    sizes.heartbeatConnected,
  );
  log(
    `seeding and signing in ${poolSize} users (${target.mode === "http" ? "next-auth credentials over HTTP" : "in-process sessions"})`,
  );
  const users = await seedUsers(target.db, poolSize, "pool", target.passwordHash);
  const signInStart = performance.now();
  const viaCredentials = Math.min(users.length, CREDENTIAL_SIGN_INS);
  const pool = await mapLimit(users, 4, (u, i) => (i < viaCredentials ? target.signIn(u) : target.session(u)));
  log(
    `signed in ${viaCredentials} users through the sign-in flow and gave ${pool.length - viaCredentials} bulk users minted session cookies in ${((performance.now() - signInStart) / 1000).toFixed(1)} s`,
  );

  await createBaselineTables(target.db);
  const server = await startBaselineServer(target.db, target.publisher);
  const ctx: BenchContext = { target, sizes, log, pool, baseline: { server, client: baselineClient(server.url) } };
  try {
    await warmUp(ctx);
    const shown = <T extends { tables: Table[] } | null>(section: T): T => {
      for (const table of section?.tables ?? []) print(renderTable(table));
      return section;
    };
    const run = async <T>(name: SectionName, section: () => Promise<T>): Promise<T | null> =>
      only.has(name) ? section() : null;
    // HTTP only (null in-process): the request path against a bare server.
    const floor = shown(await run("floor", () => floorSection(ctx)));
    // Measured before the send section, which reports its rates as a fraction of it.
    const ceilingInserts = only.has("send") ? await rawInsertRates(ctx) : null;
    const send = ceilingInserts
      ? shown(await sendSection(ctx, { perSecond: ceilingInserts.many, connections: ceilingInserts.connections }))
      : null;
    const fanout = shown(await run("fanout", () => fanoutSection(ctx)));
    const reads = shown(await run("reads", () => readsSection(ctx)));
    const reconnect = shown(await run("reconnect", () => reconnectSection(ctx)));
    const heartbeats = shown(await run("heartbeats", () => heartbeatsSection(ctx)));
    const push = shown(await run("push", () => pushSection(ctx)));

    // Sections 7 and 8 compare sections 2 and 3: only when both ran.
    const comparisons = send && fanout && ceilingInserts ? compareTables(sizes, send, fanout, ceilingInserts) : null;
    for (const table of comparisons?.tables ?? []) print(renderTable(table));
    // HTTP only: a second server on the embedded default, measured last, on a quiet machine.
    const footprint = shown(await run("footprint", () => footprintSection(ctx)));
    const search = shown(await run("search", () => searchSection(ctx)));
    const tables = [
      ...(floor?.tables ?? []),
      ...(send?.tables ?? []),
      ...(fanout?.tables ?? []),
      ...(reads?.tables ?? []),
      ...(reconnect?.tables ?? []),
      ...(heartbeats?.tables ?? []),
      ...(push?.tables ?? []),
      ...(comparisons?.tables ?? []),
      ...(footprint?.tables ?? []),
      ...(search?.tables ?? []),
    ];
    return {
      mode: sizes.name,
      target: target.mode,
      driver: target.driver,
      machine: {
        cpus: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
      },
      startedAt: startedAt.toISOString(),
      seconds: (performance.now() - t0) / 1000,
      sections: {
        ...(floor ? { floor: floor.data } : {}),
        ...(send ? { send: send.data } : {}),
        ...(fanout ? { fanout: fanout.data } : {}),
        ...(reads ? { reads: reads.data } : {}),
        ...(reconnect ? { reconnect: reconnect.data } : {}),
        ...(heartbeats ? { heartbeats: heartbeats.data } : {}),
        ...(push ? { push: push.data } : {}),
        ...(comparisons ? { baseline: comparisons.baseline, ceiling: comparisons.ceiling } : {}),
        ...(footprint ? { footprint: footprint.data } : {}),
        ...(search ? { search: search.data } : {}),
      },
      tables,
    };
  } finally {
    await server.close();
  }
}

/** Sections 7 and 8: Chorus against the naive baseline and the machine's ceiling, from sections 2 and 3. */
function compareTables(
  sizes: Sizes,
  send: Awaited<ReturnType<typeof sendSection>>,
  fanout: Awaited<ReturnType<typeof fanoutSection>>,
  ceilingInserts: Awaited<ReturnType<typeof rawInsertRates>>,
) {
  const sendRuns = send.data.throughput as { impl: string; senders: number; perSecond: number }[];
  const latency = send.data.latency as {
    impl: string;
    ack: { p50: number };
    deliver: { p50: number; p99: number };
  }[];
  const fanoutRatios = fanoutBaselineRows(fanout);
  const baselineRows: (string | number)[][] = [
    ...sizes.senders.map((n) => {
      const c = sendRuns.find((r) => r.impl === "chorus" && r.senders === n)?.perSecond ?? Number.NaN;
      const b = sendRuns.find((r) => r.impl === "baseline" && r.senders === n)?.perSecond ?? Number.NaN;
      return [`send msg/s, ${n} senders (higher is better)`, ratio(c, b)];
    }),
    ["send->ack p50 at a fixed rate (lower is better)", ratio(latency[0].ack.p50, latency[1].ack.p50)],
    ["send->deliver p50 at a fixed rate (lower is better)", ratio(latency[0].deliver.p50, latency[1].deliver.p50)],
    ...fanoutRatios.flatMap((r) => [
      [
        `fan-out ${r.groupSize}: deliver p50 / p99 (lower is better)`,
        `${r.deliverP50.toFixed(2)} / ${r.deliverP99.toFixed(2)}`,
      ],
      [`fan-out ${r.groupSize}: rows written per message`, r.rows],
      [`fan-out ${r.groupSize}: time to send the messages`, r.sendSeconds],
    ]),
  ];
  const baselineTable: Table = {
    title: "7. Chorus / naive baseline (same run, same database)",
    workload:
      "baseline = fan-out on write: a copy of each message per member, per-member unread counters, one channel per member authorized one request each; same workloads 2-3, served on loopback HTTP from the bench process",
    columns: ["measure", "Chorus/baseline"],
    rows: baselineRows,
  };

  const chorusBest = send.best.chorus;
  const largest = fanout.chorusLargest;
  const ceilingTable: Table = {
    title: "8. Ceiling (the same machine without the app)",
    workload: `single-row autocommit INSERT loops into a scratch table for ${sizes.ceilingSeconds} s; raw Soketi trigger to one public channel with ${fanout.ceiling.subscribers} pusher-js subscribers`,
    columns: ["measure", "raw", "Chorus", "Chorus as a fraction"],
    rows: [
      [
        "durable inserts/s, 1 connection vs best send msg/s",
        ceilingInserts.one,
        chorusBest,
        ratio(chorusBest, ceilingInserts.one),
      ],
      [
        `durable inserts/s, ${ceilingInserts.connections} connections vs best send msg/s`,
        ceilingInserts.many,
        chorusBest,
        ratio(chorusBest, ceilingInserts.many),
      ],
      [
        `publish->deliver p50 ms (raw trigger vs Chorus send, group of ${largest?.groupSize})`,
        fanout.ceiling.deliver.p50,
        largest?.deliver.p50 ?? Number.NaN,
        ratio(fanout.ceiling.deliver.p50, largest?.deliver.p50 ?? Number.NaN),
      ],
      [
        "publish->deliver p99 ms",
        fanout.ceiling.deliver.p99,
        largest?.deliver.p99 ?? Number.NaN,
        ratio(fanout.ceiling.deliver.p99, largest?.deliver.p99 ?? Number.NaN),
      ],
    ],
    notes: [
      "a send is several statements in one transaction plus a publish, so a fraction of the raw insert rate is expected",
      `raw fan-out delivered ${fanout.ceiling.delivered}/${fanout.ceiling.expected}; latency fraction = raw/Chorus (1 = no overhead over Soketi)`,
      "the insert rates are measured before section 2, which shows its rates as a fraction of the 16-connection one",
    ],
  };

  return {
    tables: [baselineTable, ceilingTable],
    baseline: { rows: baselineRows },
    ceiling: { inserts: ceilingInserts, soketi: fanout.ceiling, chorusBestSendPerSecond: chorusBest },
  };
}

/** First calls load route code and fill connection pools: keep them out of the figures. */
async function warmUp(ctx: BenchContext) {
  const { target, pool } = ctx;
  ctx.log("warming up the routes");
  const group = await seedGroup(
    target.db,
    "warm-up",
    pool.slice(0, 2).map((s) => s.user.id),
  );
  await mirrorConversation(target.db, group.id);
  for (let i = 0; i < 20; i++) {
    await pool[0].call("mutation", "message.send", {
      conversationId: group.id,
      clientMsgId: clientMsgId("warm"),
      body: "warm-up",
    });
    await ctx.baseline.client.send(pool[0].user.id, {
      conversationId: group.id,
      clientMsgId: clientMsgId("warmb"),
      body: "warm-up",
    });
  }
  await mapLimit(pool.slice(0, 20), 4, async (s) => {
    await s.call("query", "conversation.list", {});
    await s.call("query", "conversation.unreadTotal", {});
    await s.call("query", "sync.since", { version: 0 });
  });
  await pool[0].call("query", "message.receipts", { conversationId: group.id, fromSeq: 1, toSeq: 20 });
}

export function reportHeadline(report: BenchReport): string {
  return `Chorus bench (${report.mode}, ${report.target}, ${report.driver}) on ${report.machine.cpus} cores, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}; ${report.seconds.toFixed(0)} s`;
}
