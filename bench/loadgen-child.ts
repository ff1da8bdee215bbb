// The bench's load generators, in a process of their own (forked by
// bench/loadgen.ts) so that neither the bench's event loop (which also hosts
// the pusher-js clients) nor the generators' own CPU distorts the figures:
// - "autocannon": a closed loop of N keep-alive connections on one request
//   for a fixed time, after a warm-up;
// - "heartbeats": presence.heartbeat for many users, each with its own
//   session cookie, at a fixed overall rate (open loop, evenly spaced).
import http from "node:http";
import autocannon from "autocannon";
import type { LoadJob, LoadReply, RequestStats } from "./loadgen";

const send = (reply: LoadReply) => process.send?.(reply);

function stats(
  latencies: number[],
  ok: number,
  failed: number,
  firstError: string | null,
  seconds: number,
  cpu: NodeJS.CpuUsage,
): RequestStats {
  return {
    ok,
    failed,
    firstError,
    seconds,
    perSecond: ok / seconds,
    latencies,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

async function runAutocannon(job: Extract<LoadJob, { type: "autocannon" }>) {
  const options = {
    url: job.url,
    method: job.method,
    headers: job.headers,
    body: job.body,
    connections: job.connections,
    timeout: 30,
  };
  if (job.warmupSeconds > 0) await autocannon({ ...options, duration: job.warmupSeconds });
  send({ type: "measuring" });
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const cpu = process.cpuUsage();
  const instance = autocannon({ ...options, duration: job.seconds });
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) {
      ok++;
      latencies.push(responseTime);
    } else {
      failed++;
      firstError ??= `HTTP ${statusCode}`;
    }
  });
  const result = await instance;
  const errors = result.errors + result.timeouts;
  if (errors > 0) firstError ??= `${result.errors} connection errors, ${result.timeouts} timeouts`;
  send({
    type: "result",
    stats: stats(latencies, ok, failed + errors, firstError, result.duration, process.cpuUsage(cpu)),
  });
}

async function runHeartbeats(job: Extract<LoadJob, { type: "heartbeats" }>) {
  const { encode } = await import("next-auth/jwt");
  const url = new URL("/api/trpc/presence.heartbeat", job.baseUrl);
  // The session cookie each user's browser holds, exactly as next-auth issues it.
  const cookies: string[] = [];
  for (const user of job.users) {
    const token = await encode({ token: { sub: user.id, name: user.username }, secret: job.authSecret });
    cookies.push(`next-auth.session-token=${token}`);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.sockets });
  const body = JSON.stringify({ json: { away: false, open: job.open } });

  let latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  let inFlight = 0;
  const beat = (cookie: string) =>
    new Promise<void>((resolve) => {
      inFlight++;
      const t0 = performance.now();
      const done = (error: string | null) => {
        inFlight--;
        if (error === null) {
          ok++;
          latencies.push(performance.now() - t0);
        } else {
          failed++;
          firstError ??= error;
        }
        resolve();
      };
      const req = http.request(
        url,
        {
          method: "POST",
          agent,
          headers: { cookie, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            done(
              res.statusCode === 200
                ? null
                : `HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`,
            ),
          );
        },
      );
      req.on("error", (error) => done(String(error)));
      req.end(body);
    });

  send({ type: "minted", users: cookies.length });

  // Every user's first beat (offline -> online takes the announcing path): not measured.
  let next = 0;
  const warmStart = performance.now();
  await Promise.all(
    Array.from({ length: job.warmConcurrency }, async () => {
      while (next < cookies.length) await beat(cookies[next++]);
    }),
  );
  send({
    type: "warmed",
    stats: stats(latencies, ok, failed, firstError, (performance.now() - warmStart) / 1000, { user: 0, system: 0 }),
  });

  // Steady state: each user in turn, evenly spaced at the overall rate.
  let markAt = performance.now();
  let markCpu = process.cpuUsage();
  latencies = [];
  ok = 0;
  failed = 0;
  firstError = null;
  const start = performance.now();
  let issued = 0;
  let stopping = false;
  const tick = setInterval(() => {
    if (stopping) return;
    const due = Math.floor(((performance.now() - start) / 1000) * job.perSecond);
    for (; issued < due; issued++) void beat(cookies[issued % cookies.length]);
  }, 5);

  const mark = () => {
    const now = performance.now();
    const result = stats(latencies, ok, failed, firstError, (now - markAt) / 1000, process.cpuUsage(markCpu));
    markAt = now;
    markCpu = process.cpuUsage();
    latencies = [];
    ok = 0;
    failed = 0;
    firstError = null;
    return { ...result, inFlight };
  };

  process.on("message", async (message: { cmd: "mark" | "stop" }) => {
    if (message.cmd === "mark") send({ type: "mark", stats: mark() });
    if (message.cmd === "stop") {
      stopping = true;
      clearInterval(tick);
      const deadline = performance.now() + 30_000;
      while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      send({ type: "mark", stats: mark() });
      agent.destroy();
    }
  });
}

process.once("message", (job: LoadJob) => {
  const run = job.type === "autocannon" ? runAutocannon(job) : runHeartbeats(job);
  run.catch((error: unknown) => {
    send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
