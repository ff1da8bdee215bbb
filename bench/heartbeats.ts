// Section 6: presence heartbeats of many signed-in users at the browser's
// rate, while a large group receives messages: what the beats cost the app
// server (its CPU share, from /proc) and whether they slow message delivery.
import { sql } from "drizzle-orm";
import { conversationChannel } from "@/server/realtime/channels";
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
import { LoadChild, type RequestStats } from "./loadgen";
import { postgresBackendPids } from "./pgstat";
import { machineCpuSeconds, pidsCpuSeconds, treeCpuSeconds } from "./proc";
import { seedGroup, seedUsers } from "./seed";
import { atRate, mapLimit, percentiles, sleep } from "./stats";

/** Heartbeats of 10,000 users may take at most this share of one core. */
const TARGET_CORES = 0.25;
/** The server's PRESENCE_TTL_SECONDS unless the bench sets it; browsers beat every TTL/2 (45 s). */
const DEFAULT_PRESENCE_TTL_SECONDS = 90;

type Driver = {
  /** Every user's first beat done (not measured); steady beats start. */
  warmed(): Promise<RequestStats>;
  /** Stats since the previous mark. */
  mark(): Promise<RequestStats>;
  stop(): Promise<RequestStats>;
  /** The driver's own process, when it has one. */
  pid?: number;
};

/** Over HTTP: a forked process mints the users' session cookies and beats at the rate. */
async function childDriver(
  ctx: BenchContext,
  users: { id: string; username: string }[],
  perSecond: number,
  open: string,
) {
  const http = ctx.target.http;
  if (!http) throw new Error("no HTTP server");
  const child = new LoadChild({
    type: "heartbeats",
    baseUrl: http.baseUrl,
    authSecret: http.authSecret,
    users,
    open,
    perSecond,
    warmConcurrency: 32,
    sockets: 64,
  });
  const minted = await child.next("minted", 300_000);
  ctx.log(`heartbeats: ${minted.users} session cookies minted in the driver process`);
  const driver: Driver = {
    pid: child.pid,
    warmed: async () => (await child.next("warmed", 600_000)).stats,
    mark: async () => {
      child.command("mark");
      return (await child.next("mark", 60_000)).stats;
    },
    stop: async () => {
      child.command("stop");
      try {
        return (await child.next("mark", 60_000)).stats;
      } finally {
        await child.close();
      }
    },
  };
  return driver;
}

/** In-process (the smoke run): the same calls from this loop, at a tiny rate. */
async function localDriver(
  ctx: BenchContext,
  users: { id: string; username: string }[],
  perSecond: number,
  open: string,
) {
  const sessions = await mapLimit(users, 8, (u) => ctx.target.session(u));
  let latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  let markAt = performance.now();
  const beat = async (i: number) => {
    const t0 = performance.now();
    try {
      await sessions[i % sessions.length].call("mutation", "presence.heartbeat", { away: false, open });
      ok++;
      latencies.push(performance.now() - t0);
    } catch (error) {
      failed++;
      firstError ??= String(error);
    }
  };
  const mark = (): RequestStats => {
    const now = performance.now();
    const seconds = (now - markAt) / 1000;
    const stats = { ok, failed, firstError, seconds, perSecond: ok / seconds, latencies, cpuSeconds: Number.NaN };
    markAt = now;
    latencies = [];
    ok = 0;
    failed = 0;
    firstError = null;
    return stats;
  };
  await mapLimit(sessions, 8, (_s, i) => beat(i));
  const warm = mark();
  const start = performance.now();
  let issued = 0;
  const running = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * perSecond);
    for (; issued < due; issued++) {
      const p = beat(issued);
      running.add(p);
      void p.finally(() => running.delete(p));
    }
  }, 10);
  const driver: Driver = {
    warmed: async () => warm,
    mark: async () => mark(),
    stop: async () => {
      clearInterval(timer);
      await Promise.all(running);
      return mark();
    },
  };
  return driver;
}

type Window = {
  name: string;
  seconds: number;
  /** CPU shares over the window, 1 = one core. */
  serverCores: number;
  benchCores: number;
  driverCores: number;
  /** Postgres backends serving the bench database, and the whole machine (all cores, everyone's processes). */
  postgresCores: number;
  machineCores: number;
  beats?: {
    perSecond: number;
    ok: number;
    failed: number;
    latency: ReturnType<typeof percentiles>;
    inFlightAtEnd: number;
  };
  deliver?: {
    latency: ReturnType<typeof percentiles>;
    ack: ReturnType<typeof percentiles>;
    delivered: number;
    expected: number;
    sent: number;
  };
};

export async function heartbeatsSection(ctx: BenchContext): Promise<SectionResult> {
  const { target, sizes, pool } = ctx;
  const seconds = sizes.heartbeatWindowSeconds;
  const perSecond = sizes.heartbeatUsers / sizes.heartbeatIntervalSeconds;
  const connectedCount = Math.min(sizes.heartbeatConnected, sizes.heartbeatGroupSize, pool.length);
  const receivers = pool.slice(0, connectedCount);
  const sender = pool[0];

  ctx.log(`heartbeats: seeding ${sizes.heartbeatUsers} users and a group of ${sizes.heartbeatGroupSize}`);
  const others = await seedUsers(target.db, sizes.heartbeatUsers - connectedCount, "beat", target.passwordHash);
  // The group's members heartbeat too: the connected ones, then offline members, then users outside it.
  const group = await seedGroup(target.db, "heartbeats", [
    ...receivers.map((s) => s.user.id),
    ...others.slice(0, sizes.heartbeatGroupSize - connectedCount).map((u) => u.id),
  ]);
  const beaters = [...receivers.map((s) => s.user), ...others];
  // Steady state: everyone is online already (as after their first beat, which takes the
  // announcing offline -> online path); seeded in SQL, so the first pass below stays short.
  const ttlSeconds = Number(target.http?.env.PRESENCE_TTL_SECONDS ?? DEFAULT_PRESENCE_TTL_SECONDS);
  await target.db.execute(
    sql`update users set presence_status = 'online', last_seen_at = now(),
          presence_expires_at = now() + make_interval(secs => ${ttlSeconds})
        where id = any(${`{${beaters.map((u) => u.id).join(",")}}`}::uuid[])`,
  );

  ctx.log(`heartbeats: connecting ${connectedCount} group members over pusher-js`);
  const clients: BenchClient[] = receivers.map((s) => connectClient(target, s));
  await Promise.all(clients.map(connected));
  await mapLimit(clients, 50, (c) => subscribeAll(c, [conversationChannel(group.id)], sizes.waitSeconds * 1000));

  let driver: Driver | null = null;
  const serverCpu = () => target.serverCpuSeconds?.() ?? Number.NaN;
  const driverCpu = () => treeCpuSeconds(driver?.pid);
  const windows: Window[] = [];

  /** One measured window: CPU of the server, the bench process, the driver, Postgres and the machine over `work`. */
  const measure = async (name: string, work: () => Promise<Partial<Window>>) => {
    ctx.log(`heartbeats: window "${name}" (${seconds} s)`);
    const pg0 = pidsCpuSeconds(target.driver === "postgres" ? await postgresBackendPids(target.db) : []);
    const machine0 = machineCpuSeconds();
    const t0 = performance.now();
    const server0 = serverCpu();
    const bench0 = process.cpuUsage();
    const driver0 = driverCpu();
    const extra = await work();
    const wall = (performance.now() - t0) / 1000;
    const bench = process.cpuUsage(bench0);
    const server1 = serverCpu();
    const driver1 = driverCpu();
    const machine1 = machineCpuSeconds();
    const pg1 = pidsCpuSeconds([...pg0.keys()]);
    let pg = 0;
    for (const [pid, before] of pg0) pg += (pg1.get(pid) ?? before) - before;
    const cores = (machine1.total - machine0.total) / wall;
    windows.push({
      name,
      seconds: wall,
      serverCores: (server1 - server0) / wall,
      benchCores: (bench.user + bench.system) / 1e6 / wall,
      driverCores: (driver1 - driver0) / wall,
      postgresCores: pg0.size > 0 ? pg / wall : Number.NaN,
      machineCores: ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * cores,
      ...extra,
    });
  };

  /** Messages at the rate for the window; deliveries are awaited after it (outside the CPU window). */
  let pendingDelivery: { tracker: DeliveryTracker; sent: number; acks: number[] } | null = null;
  const messages = async () => {
    const count = Math.max(1, Math.round(sizes.heartbeatMessageRate * seconds));
    const tracker = new DeliveryTracker(count * (connectedCount - 1));
    track(tracker);
    let sent = 0;
    const acks: number[] = [];
    await atRate(count, sizes.heartbeatMessageRate, async (i) => {
      const id = clientMsgId("hb");
      const t0 = performance.now();
      tracker.sent(id, t0);
      try {
        await sender.call("mutation", "message.send", { conversationId: group.id, clientMsgId: id, body: `beat ${i}` });
        acks.push(performance.now() - t0);
        sent++;
      } catch (error) {
        if (sent === 0) ctx.log(`  heartbeats: send failed: ${String(error)}`);
      }
    });
    pendingDelivery = { tracker, sent, acks };
  };
  const delivered = async (): Promise<Window["deliver"]> => {
    const pending = pendingDelivery;
    if (!pending) return undefined;
    await pending.tracker.done(sizes.waitSeconds * 1000);
    track(null);
    pendingDelivery = null;
    return {
      latency: percentiles(pending.tracker.latencies),
      ack: percentiles(pending.acks),
      delivered: pending.tracker.received,
      expected: pending.tracker.expected,
      sent: pending.sent,
    };
  };
  const beatsOf = (s: RequestStats): Window["beats"] => ({
    perSecond: s.perSecond,
    ok: s.ok,
    failed: s.failed,
    latency: percentiles(s.latencies),
    inFlightAtEnd: s.inFlight ?? 0,
  });

  let warm: RequestStats | undefined;
  try {
    await measure("idle", async () => {
      await sleep(seconds * 1000);
      return {};
    });
    await measure("messages", async () => {
      await messages();
      return {};
    });
    windows[windows.length - 1].deliver = await delivered();

    ctx.log(`heartbeats: every user's first beat (unmeasured), then ${perSecond.toFixed(0)}/s`);
    // Every beat names the group as the open conversation: its members get its last seq back, the others null.
    driver = target.http
      ? await childDriver(ctx, beaters, perSecond, group.id)
      : await localDriver(ctx, beaters, perSecond, group.id);
    warm = await driver.warmed();
    if (warm.failed > 0) ctx.log(`  heartbeats: ${warm.failed} first beats failed, first: ${warm.firstError}`);
    await sleep(Math.min(2000, seconds * 500));
    await driver.mark();
    const d = driver;
    await measure("heartbeats", async () => {
      await sleep(seconds * 1000);
      return { beats: beatsOf(await d.mark()) };
    });
    await measure("messages + heartbeats", async () => {
      await messages();
      return { beats: beatsOf(await d.mark()) };
    });
    windows[windows.length - 1].deliver = await delivered();
  } finally {
    track(null);
    const last = await driver?.stop().catch(() => null);
    if (last?.firstError) ctx.log(`  heartbeats: ${last.failed} beats failed, first: ${last.firstError}`);
    disconnectAll(clients);
  }
  for (const w of windows) {
    if (w.beats && w.beats.failed > 0) ctx.log(`  heartbeats: ${w.beats.failed} beats failed in "${w.name}"`);
  }

  const by = (name: string) => windows.find((w) => w.name === name);
  const idle = by("idle");
  const onlyBeats = by("heartbeats");
  const onlyMessages = by("messages");
  const both = by("messages + heartbeats");
  const share = (onlyBeats?.serverCores ?? Number.NaN) - (idle?.serverCores ?? Number.NaN);
  const shareUnderMessages = (both?.serverCores ?? Number.NaN) - (onlyMessages?.serverCores ?? Number.NaN);
  const beatsCounted = onlyBeats?.beats?.ok ?? 0;
  const cpuMsPerBeat = (share * (onlyBeats?.seconds ?? Number.NaN) * 1000) / Math.max(1, beatsCounted);
  const behind = windows.filter((w) => w.beats && w.beats.perSecond < 0.9 * perSecond);
  const pct = (cores: number) => (Number.isFinite(cores) ? `${(cores * 100).toFixed(1)}%` : "n/a");
  const verdict = (cores: number) =>
    !Number.isFinite(cores) ? "not measured in-process" : cores <= TARGET_CORES ? "met" : "MISSED";

  return {
    data: {
      users: sizes.heartbeatUsers,
      intervalSeconds: sizes.heartbeatIntervalSeconds,
      perSecond,
      groupSize: sizes.heartbeatGroupSize,
      receivers: connectedCount - 1,
      messageRate: sizes.heartbeatMessageRate,
      windows,
      warm: warm ? { seconds: warm.seconds, ok: warm.ok, failed: warm.failed } : null,
      heartbeatCores: share,
      heartbeatCoresUnderMessages: shareUnderMessages,
      serverCpuMsPerBeat: cpuMsPerBeat,
      targetCores: TARGET_CORES,
    },
    tables: [
      {
        title: "6. Heartbeats",
        workload: `${sizes.heartbeatUsers} signed-in users, each calling presence.heartbeat once per ${sizes.heartbeatIntervalSeconds} s with the group as its open conversation (${perSecond.toFixed(0)}/s in all, evenly spaced${target.http ? ", from a process of their own over 64 keep-alive sockets" : ""}); a group of ${sizes.heartbeatGroupSize} with ${connectedCount} members connected over pusher-js receives ${sizes.heartbeatMessageRate} msg/s in the message windows; ${seconds} s per window`,
        columns: [
          "window",
          "server CPU (% of a core)",
          "beats/s",
          "beat p50",
          "beat p99",
          "send->ack p99",
          "deliver p50",
          "deliver p99",
          "delivered",
          "bench process",
          "beat driver",
          "Postgres",
          "machine busy",
        ],
        rows: windows.map((w) => [
          w.name,
          pct(w.serverCores),
          w.beats?.perSecond ?? "-",
          w.beats?.latency.p50 ?? "-",
          w.beats?.latency.p99 ?? "-",
          w.deliver?.ack.p99 ?? "-",
          w.deliver?.latency.p50 ?? "-",
          w.deliver?.latency.p99 ?? "-",
          w.deliver ? `${w.deliver.delivered}/${w.deliver.expected}` : "-",
          pct(w.benchCores),
          pct(w.driverCores),
          pct(w.postgresCores),
          pct(w.machineCores),
        ]),
        notes: [
          `heartbeats of ${sizes.heartbeatUsers} users: ${pct(share)} of one core (heartbeats - idle), ${pct(shareUnderMessages)} beside the messages (both - messages); target <= ${pct(TARGET_CORES)}: ${verdict(share)}`,
          `server CPU per heartbeat: ${Number.isFinite(cpuMsPerBeat) ? cpuMsPerBeat.toFixed(3) : "n/a"} ms`,
          `the users start online (seeded), and each beat once before the windows, unmeasured (the server caches each session token on first sight)${warm ? `: ${warm.ok} beats in ${warm.seconds.toFixed(1)} s at 32 in parallel, ${(warm.ok / warm.seconds).toFixed(0)}/s` : ""}`,
          ...(behind.length > 0
            ? [
                `the server FELL BEHIND the ${perSecond.toFixed(0)}/s asked for: ${behind.map((w) => `${w.beats?.perSecond.toFixed(0)}/s in "${w.name}" (${w.beats?.inFlightAtEnd} in flight at its end)`).join(", ")}`,
              ]
            : []),
          "CPU columns: CPU seconds / wall seconds from /proc (100% = one core): the app server process, the bench process (pusher-js receivers, the sender), the beat driver, the Postgres backends of the bench database, and every process on the machine (other people's too; 200% = both cores busy); latencies in ms; deliver = send->deliver at every connected receiver",
        ],
      },
    ],
  };
}
