// Section 1: the API floor. The same load generator (autocannon, 16
// keep-alive connections, in its own process) against a bare node:http +
// postgres.js `select 1` server and against Chorus's cheapest requests, so the
// cost of the request path itself shows as a fraction of what the machine does
// without it.
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import superjson from "superjson";
import type { BenchContext, SectionResult } from "./context";
import { autocannonInChild, type RequestStats } from "./loadgen";
import { postgresBackendPids } from "./pgstat";
import { machineCpuSeconds, pidsCpuSeconds, stopTree, treeCpuSeconds } from "./proc";
import { percentiles, ratio } from "./stats";

export type FloorRun = {
  name: string;
  request: string;
  perSecond: number;
  ok: number;
  failed: number;
  firstError: string | null;
  latency: ReturnType<typeof percentiles>;
  /** Server CPU per successful request, and the server's CPU share (1 = one core). */
  serverCpuMsPerRequest: number;
  serverCores: number;
  /** The load generator's CPU share over the same time (1 = one core). */
  generatorCores: number;
  /** The bench database's Postgres backends, and every process on the machine (1 = one core). */
  postgresCores: number;
  machineCores: number;
  fractionOfBare: number;
};

async function startBareServer(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(path.join(import.meta.dirname, "floor-server.ts"), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, FLOOR_DATABASE_URL: databaseUrl, FLOOR_POOL_SIZE: "20" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the bare floor server did not start in 60 s")), 60_000);
    child.once("message", (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once("exit", (code) => reject(new Error(`the bare floor server exited with code ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

const trpcInput = (input: unknown) => encodeURIComponent(JSON.stringify(superjson.serialize(input)));

export async function floorSection(ctx: BenchContext): Promise<SectionResult | null> {
  const { target, sizes, pool } = ctx;
  const http = target.http;
  if (!http) return null;
  const session = pool[0];
  const cookie = session.cookie?.() ?? "";

  // Each request checked once before it is loaded: the right answer, signed in.
  const me = await session.call<{ id: string }>("query", "user.me");
  if (me.id !== session.user.id) throw new Error("floor: user.me answered for another user");
  const { version } = await session.call<{ version: number }>("query", "sync.since", { version: 0 });
  const unchanged = await session.call<{ version: number; groups: unknown[] }>("query", "sync.since", { version });
  if (unchanged.groups.length !== 0) throw new Error("floor: sync.since at the current version returned groups");

  const bare = await startBareServer(http.databaseUrl);
  const runs: FloorRun[] = [];
  try {
    const endpoints: { name: string; request: string; url: string; pid: number | undefined; cookie?: string }[] = [
      { name: "bare node:http + postgres.js", request: "select 1", url: `${bare.url}/`, pid: bare.child.pid },
      { name: "Chorus /api/health", request: "GET, select 1", url: `${http.baseUrl}/api/health`, pid: http.pid },
      {
        name: "Chorus user.me",
        request: "GET tRPC, signed in",
        url: `${http.baseUrl}/api/trpc/user.me`,
        pid: http.pid,
        cookie,
      },
      {
        name: "Chorus sync.since unchanged",
        request: `GET tRPC, signed in, version ${version}`,
        url: `${http.baseUrl}/api/trpc/sync.since?input=${trpcInput({ version })}`,
        pid: http.pid,
        cookie,
      },
    ];
    let bareRate = Number.NaN;
    for (const e of endpoints) {
      ctx.log(`floor: ${e.name}, ${sizes.floorConnections} connections for ${sizes.floorSeconds} s`);
      let cpuStart = Number.NaN;
      let wallStart = 0;
      let machineStart = machineCpuSeconds();
      let pgStart = new Map<number, number>();
      const result: RequestStats = await autocannonInChild(
        {
          url: e.url,
          method: "GET",
          headers: e.cookie ? { cookie: e.cookie } : {},
          connections: sizes.floorConnections,
          seconds: sizes.floorSeconds,
          warmupSeconds: sizes.floorWarmupSeconds,
        },
        async () => {
          // After the warm-up: every pooled connection is open by now.
          const pids = await postgresBackendPids(target.db);
          cpuStart = treeCpuSeconds(e.pid);
          wallStart = performance.now();
          machineStart = machineCpuSeconds();
          pgStart = pidsCpuSeconds(pids);
        },
      );
      const cpu = treeCpuSeconds(e.pid) - cpuStart;
      const wall = (performance.now() - wallStart) / 1000;
      const machine = machineCpuSeconds();
      let pg = 0;
      for (const [pid, seconds] of pidsCpuSeconds([...pgStart.keys()])) pg += seconds - (pgStart.get(pid) ?? seconds);
      const machineCores =
        ((machine.busy - machineStart.busy) / (machine.total - machineStart.total)) *
        ((machine.total - machineStart.total) / wall);
      if (result.firstError) ctx.log(`  ${e.name}: ${result.failed} failed, first: ${result.firstError}`);
      if (runs.length === 0) bareRate = result.perSecond;
      runs.push({
        name: e.name,
        request: e.request,
        perSecond: result.perSecond,
        ok: result.ok,
        failed: result.failed,
        firstError: result.firstError,
        latency: percentiles(result.latencies),
        serverCpuMsPerRequest: (cpu * 1000) / Math.max(1, result.ok),
        serverCores: cpu / wall,
        generatorCores: result.cpuSeconds / result.seconds,
        postgresCores: pg / wall,
        machineCores,
        fractionOfBare: ratio(result.perSecond, bareRate),
      });
    }
  } finally {
    await stopTree(bare.child, 5_000);
  }

  return {
    data: { connections: sizes.floorConnections, seconds: sizes.floorSeconds, runs },
    tables: [
      {
        title: "1. API floor",
        workload: `autocannon in its own process, ${sizes.floorConnections} keep-alive connections, ${sizes.floorSeconds} s per row after ${sizes.floorWarmupSeconds} s of warm-up; the bare server is node:http + postgres.js (pool 20) answering select 1 on the same database, in its own process`,
        columns: [
          "endpoint",
          "request",
          "req/s",
          "p50 ms",
          "p99 ms",
          "failed",
          "server CPU ms/req",
          "server cores",
          "generator cores",
          "Postgres cores",
          "machine busy cores",
          "fraction of bare",
        ],
        rows: runs.map((r) => [
          r.name,
          r.request,
          r.perSecond,
          r.latency.p50,
          r.latency.p99,
          r.failed,
          r.serverCpuMsPerRequest,
          r.serverCores,
          r.generatorCores,
          r.postgresCores,
          r.machineCores,
          r.fractionOfBare,
        ]),
        notes: [
          "fraction of bare = req/s over the bare server's req/s in this run (1 = the request path costs nothing over select 1)",
          "cores = CPU seconds / wall seconds from /proc (1 = one core busy): the server process, autocannon, the Postgres backends of the bench database, and every process on the machine (other people's too; 2 = both cores busy)",
          "Chorus is one process (Next.js, the node:http API and the embedded Soketi); signed-in rows send a next-auth session cookie minted with the server's secret",
        ],
      },
    ],
  };
}
