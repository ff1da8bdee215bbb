// Chorus scaled out on real parts: two app instances against one private
// Postgres, two Soketi nodes clustered on one private Redis, clients spread
// over both; then each fault in turn. Every wait is bounded in time.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Api, audit, MemberClient, rawDuplicates, sessionCookie } from "./clients";
import {
  type AppInstance,
  appInstance,
  buildApp,
  type ClusterSecrets,
  type PrivatePostgres,
  type PrivateRedis,
  type Service,
  sleep,
  soketiNode,
  startPrivatePostgres,
  startPrivateRedis,
  tempDir,
  until,
} from "./parts";
import { conversationChannel } from "@/server/realtime/channels";
import { freePort } from "@/server/testing/realtime";

const secrets: ClusterSecrets = {
  authSecret: "cluster-auth-secret-0123456789abcdef0123456789",
  pusherSecret: "cluster-pusher-secret-0123456789",
  appId: "chorus-cluster",
  key: "chorus-cluster-key",
};
const SIGNUPS_ALLOWED = 8;
const RECEIPTS_CACHE_SECONDS = 2;
const MEMBERS = ["alice", "bob", "carol", "dave", "erin", "frank"];

let pg: PrivatePostgres;
let redis: PrivateRedis;
let sql: postgres.Sql;
let soketi: Service[] = [];
const apps: AppInstance[] = [];
let appPorts: number[] = [];
const people: { name: string; id: string; username: string; cookie: string }[] = [];
/** What the closing note reports, one row per fault. */
const report: Record<string, unknown>[] = [];

async function startApp(i: number, extraEnv: Record<string, string> = {}) {
  const app = await appInstance(`app-${"AB"[i]}`, {
    ...secrets,
    port: appPorts[i],
    databaseUrl: pg.url("chorus"),
    redisUrl: redis.url,
    soketiPort: soketi[i].port,
    workerId: i + 1,
    dataDir: tempDir("chorus-app-"),
    extraEnv: {
      SIGNUP_RATE_LIMIT: String(SIGNUPS_ALLOWED),
      // Counts-only receipts (cached per instance) from 3 members on, so the suite's groups of 6 use the cache.
      RECEIPTS_DETAIL_MAX_MEMBERS: "2",
      RECEIPTS_CACHE_SECONDS: String(RECEIPTS_CACHE_SECONDS),
      ...extraEnv,
    },
  });
  await app.start();
  apps[i] = app;
  return app;
}

const apiFor = (person: (typeof people)[number], app: AppInstance) => new Api(app.url, person.cookie);

beforeAll(async () => {
  buildApp();
  pg = await startPrivatePostgres();
  const admin = postgres(pg.url(), { max: 1, onnotice: () => {} });
  await admin`create database chorus`;
  await admin.end();
  sql = postgres(pg.url("chorus"), { max: 2, onnotice: () => {} });
  redis = await startPrivateRedis();
  appPorts = [await freePort(), await freePort()];
  soketi = await Promise.all(
    [0, 1].map((i) =>
      soketiNode(`soketi-${"AB"[i]}`, {
        ...secrets,
        redisUrl: redis.url,
        webhookUrl: `http://127.0.0.1:${appPorts[i]}`,
        dataDir: tempDir("chorus-soketi-"),
      }),
    ),
  );
  await Promise.all(soketi.map((s) => s.start()));
  // Both migrate at once on a fresh database: the advisory lock lets one do it.
  await Promise.all([startApp(0), startApp(1)]);
}, 900_000);

afterAll(async () => {
  console.log(`\ncluster fault report:\n${report.map((r) => `  ${JSON.stringify(r)}`).join("\n")}\n`);
  await Promise.all(apps.map((a) => a?.stop()));
  await Promise.all(soketi.map((s) => s?.stop()));
  await redis?.kill();
  await sql?.end({ timeout: 5 });
  await pg?.destroy();
});

/** A new group of all members, each connected to node A or B (alternating) through the instance beside it. */
async function scenario(name: string) {
  const owner = people[0];
  const group = await apiFor(owner, apps[0]).must<{ id: string }>("mutation", "group.create", {
    name: `${name} ${Date.now()}`,
    memberIds: people.slice(1).map((p) => p.id),
  });
  const clients = people.map(
    (p, i) => new MemberClient(p.name, apiFor(p, apps[i % 2]), soketi[i % 2].port, secrets.key, group.id),
  );
  await until("every member connected and subscribed", () =>
    clients.every((c) => c.connected && c.pusher.channel(`private-conversation-${group.id}`)?.subscribed),
  );
  // The group opens with system messages ("created the group"): the test's messages come after them.
  const [{ last_seq }] = await sql<{ last_seq: string }[]>`select last_seq from conversations where id = ${group.id}`;
  const offset = Number(last_seq);
  await until("the opening messages shown", () => clients.every((c) => c.contiguous() >= offset));
  return { conversationId: group.id, clients, offset };
}

type BurstStats = {
  sent: number;
  attempts: number;
  failures: { code: string; ms: number; message: string }[];
  slowestFailureMs: number;
};

/**
 * `total` sends over both instances (alternating), `concurrency` at a time,
 * each retried with the same clientMsgId until stored, as the browser's
 * Retry does. `during(n)` is called as sends complete, to inject faults.
 */
async function burst(
  conversationId: string,
  tag: string,
  total: number,
  concurrency: number,
  during: (completed: number) => void = () => {},
): Promise<BurstStats> {
  const stats: BurstStats = { sent: 0, attempts: 0, failures: [], slowestFailureMs: 0 };
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const n = next++;
      const sender = people[n % people.length];
      const clientMsgId = `${tag}-${n}`;
      const deadline = Date.now() + 90_000;
      for (let attempt = 0; ; attempt++) {
        const app = apps[(n + attempt) % 2];
        stats.attempts++;
        const result = await apiFor(sender, app).call("mutation", "message.send", {
          conversationId,
          clientMsgId,
          body: `${tag} message ${n}`,
        });
        if (result.ok) break;
        stats.failures.push({ code: result.code, ms: result.ms, message: result.message });
        stats.slowestFailureMs = Math.max(stats.slowestFailureMs, result.ms);
        if (Date.now() > deadline)
          throw new Error(`send ${clientMsgId} never succeeded: last ${result.code} ${result.message}`);
        await sleep(250);
      }
      stats.sent++;
      during(stats.sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stats;
}

async function storedAudit(conversationId: string, expected: number, offset: number) {
  const [row] = await sql<{ n: string; distinct_ids: string; max_seq: string | null }[]>`
    select count(*) as n, count(distinct client_msg_id) as distinct_ids, max(seq) as max_seq
    from messages where conversation_id = ${conversationId} and kind = 'text'`;
  return {
    stored: Number(row.n),
    distinctClientMsgIds: Number(row.distinct_ids),
    lastSeq: Number(row.max_seq ?? 0) - offset,
    expected,
  };
}

/** Background publish attempts per message seq (the after-commit publish is not counted there). */
async function publishAttempts(conversationId: string): Promise<Map<number, number>> {
  const rows = await sql<{ seq: number; attempts: number }[]>`
    select (payload->>'seq')::int as seq, attempts from outbox
    where event = 'message.new' and ${conversationChannel(conversationId)} = any(channels)`;
  return new Map(rows.map((r) => [r.seq, r.attempts]));
}

async function unpublished(): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select count(*) as n from outbox where processed_at is null`;
  return Number(row.n);
}

/**
 * Waits until every client shows 1..expected by itself (live events, a fill
 * on each resubscription and on each seq gap, as the browser does); returns the audit of each.
 */
async function everyoneShows(clients: MemberClient[], offset: number, expected: number, timeoutMs: number) {
  const started = Date.now();
  await until(
    `every member showing ${expected} messages`,
    () => clients.every((c) => c.contiguous() >= offset + expected),
    timeoutMs,
    250,
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}; shown: ${clients.map((c) => `${c.name}:${c.contiguous()}/${c.pusher.connection.state}`).join(" ")}; ${[...soketi, ...apps].map((p) => `${p.name} ${p.running() ? "running" : "dead"}:\n${p.logs().slice(-3000)}`).join("\n")}`,
    );
  });
  return {
    ms: Date.now() - started,
    audits: clients.map((c) => ({
      name: c.name,
      ...audit(c.list(), offset, expected),
      raw: c.raw.length,
      rawDuplicates: rawDuplicates(c.raw),
    })),
  };
}

function expectClean(audits: { duplicates: number; gaps: number; inOrder: boolean; extra: number }[]) {
  for (const a of audits) {
    expect(a.duplicates).toBe(0);
    expect(a.gaps).toBe(0);
    expect(a.extra).toBe(0);
    expect(a.inOrder).toBe(true);
  }
}

describe("a scaled-out Chorus", () => {
  test("sign-ups are limited across both instances together: the limiter lives in Redis", async () => {
    const register = (i: number, name: string) =>
      new Api(apps[i % 2].url, "").call<{ id: string; username: string }>("mutation", "auth.register", {
        username: `${name}_${process.pid}`,
        displayName: name[0].toUpperCase() + name.slice(1),
        password: "correct horse battery",
      });
    const names = [...MEMBERS, "grace", "heidi"];
    for (const [i, name] of names.entries()) {
      const result = await register(i, name);
      if (!result.ok) throw new Error(`registering ${name} on instance ${i % 2}: ${result.code} ${result.message}`);
      if (i < MEMBERS.length) {
        people.push({
          name,
          id: result.data.id,
          username: result.data.username,
          cookie: await sessionCookie(secrets.authSecret, result.data),
        });
      }
    }
    // Each instance alone has seen only 4 of the 8: a per-process limiter would let this through.
    const refused = await register(names.length, "ivan");
    expect(refused.ok).toBe(false);
    expect(refused.ok ? null : refused.code).toBe("TOO_MANY_REQUESTS");
  });

  test("a member on node A receives what was published through node B, and the reverse", async () => {
    const { conversationId, clients, offset } = await scenario("cross-node");
    await apiFor(people[0], apps[0]).must("mutation", "message.send", {
      conversationId,
      clientMsgId: "x-1",
      body: "through A",
    });
    await apiFor(people[1], apps[1]).must("mutation", "message.send", {
      conversationId,
      clientMsgId: "x-2",
      body: "through B",
    });
    // Live delivery only: no history fill may stand in for the cluster here.
    await until(
      "both messages live on every client",
      () => clients.every((c) => c.raw.includes(offset + 1) && c.raw.includes(offset + 2)),
      15_000,
    );
    for (const c of clients) {
      expect(c.shown.get(offset + 1)).toBe("through A");
      expect(c.shown.get(offset + 2)).toBe("through B");
    }
    for (const c of clients) c.disconnect();
  });

  test("reads through one instance reach the other's cached counts within RECEIPTS_CACHE_SECONDS, and the hint reaches members on both nodes", async () => {
    const { conversationId, clients, offset } = await scenario("receipts");
    const seq = offset + 1;
    await apiFor(people[0], apps[0]).must("mutation", "message.send", {
      conversationId,
      clientMsgId: "r-1",
      body: "read me",
    });
    const readCount = async (app: AppInstance) => {
      const r = await apiFor(people[0], app).must<{ detailed: boolean; items: { seq: number; read: number }[] }>(
        "query",
        "message.receipts",
        { conversationId, fromSeq: seq, toSeq: seq },
      );
      expect(r.detailed).toBe(false);
      return r.items.find((i) => i.seq === seq)?.read ?? 0;
    };
    // Both instances cache "nobody read it yet".
    expect(await readCount(apps[0])).toBe(0);
    expect(await readCount(apps[1])).toBe(0);
    const readAt = Date.now();
    for (const reader of people.slice(1, 4)) {
      await apiFor(reader, apps[1]).must("mutation", "message.markRead", { conversationId, seq });
    }
    await until("a receipts hint on every member's client, on both nodes", () =>
      clients.every((c) => c.receiptHints.some((upTo) => upTo >= seq)),
    );
    const staleFor: number[] = [];
    for (const app of apps) {
      await until(`instance ${app.name} counting the 3 reads`, async () => (await readCount(app)) === 3, 10_000, 100);
      staleFor.push(Date.now() - readAt);
    }
    // A cached count is never older than the cache interval (plus the reads and a poll).
    for (const ms of staleFor) expect(ms).toBeLessThan(RECEIPTS_CACHE_SECONDS * 1000 + 1_500);
    report.push({ check: "receipts across instances", staleForMs: staleFor, cacheSeconds: RECEIPTS_CACHE_SECONDS });
    for (const c of clients) c.disconnect();
  });

  test("a Soketi node killed during a burst of 2,000 sends: everyone ends with every message once, in order, and the outbox empties", async () => {
    const { conversationId, clients, offset } = await scenario("soketi-kill");
    let killedAt = 0;
    let restartedAt = 0;
    let fault: Promise<void> | null = null;
    const stats = await burst(conversationId, "sk", 2_000, 20, (completed) => {
      if (completed === 500 && !fault) {
        fault = (async () => {
          killedAt = Date.now();
          await soketi[0].kill();
          await sleep(2_000);
          await soketi[0].start();
          restartedAt = Date.now();
        })();
      }
    });
    await fault;
    const shown = await everyoneShows(clients, offset, 2_000, 60_000);
    expectClean(shown.audits);
    const stored = await storedAudit(conversationId, 2_000, offset);
    expect(stored).toMatchObject({ stored: 2_000, distinctClientMsgIds: 2_000, lastSeq: 2_000 });
    // Rows whose after-commit publish hit the dead node: the lease runs out, a background publisher sends them.
    const drainStarted = Date.now();
    await until("the outbox holding nothing unpublished", async () => (await unpublished()) === 0, 40_000, 250);
    // Both instances' background publishers took the orphaned rows (SKIP LOCKED), so no row went out
    // twice at once. A row does reach a client again when a publish Soketi had already fanned out
    // lost its answer to the kill and was retried: never more often than it was attempted.
    const attempts = await publishAttempts(conversationId);
    for (const c of clients) {
      const deliveries = new Map<number, number>();
      for (const seq of c.raw) deliveries.set(seq, (deliveries.get(seq) ?? 0) + 1);
      for (const [seq, n] of deliveries)
        if (n > 1) expect(n, `${c.name} got seq ${seq} ${n} times`).toBeLessThanOrEqual(1 + (attempts.get(seq) ?? 0));
    }
    report.push({
      fault: "soketi node SIGKILL, restarted after 2 s",
      sent: stats.sent,
      stored: stored.stored,
      failedAttempts: stats.failures.length,
      deliveredToEveryClient: shown.audits.every((a) => a.gaps === 0),
      duplicatesShown: shown.audits.reduce((n, a) => n + a.duplicates, 0),
      gapsLeft: shown.audits.reduce((n, a) => n + a.gaps, 0),
      rawDuplicateEvents: shown.audits.reduce((n, a) => n + a.rawDuplicates, 0),
      nodeDownMs: restartedAt - killedAt,
      allShownMsAfterBurst: shown.ms,
      outboxDrainedMsAfterShown: Date.now() - drainStarted,
    });
    for (const c of clients) c.disconnect();
  });

  test("an app instance killed between commit and publish: the other instance publishes its orphaned rows within one lease", async () => {
    const { conversationId, clients, offset } = await scenario("app-kill");
    // Instance B again, holding every publish for a minute after commit.
    await apps[1].stop();
    await startApp(1, { CHORUS_TEST_PUBLISH_DELAY_MS: "60000" });
    try {
      const sends = Array.from({ length: 20 }, (_, n) =>
        apiFor(people[n % people.length], apps[1]).call("mutation", "message.send", {
          conversationId,
          clientMsgId: `ak-${n}`,
          body: `orphan ${n}`,
        }),
      );
      await until(
        "the 20 messages committed",
        async () => (await storedAudit(conversationId, 20, offset)).stored === 20,
        30_000,
      );
      const killedAt = Date.now();
      await apps[1].kill();
      const answers = await Promise.all(sends);
      // Their requests died with the instance; the messages did not.
      expect(answers.every((a) => !a.ok)).toBe(true);
      await until(
        "every member given the 20 orphaned messages live",
        () => clients.every((c) => new Set(c.raw.filter((seq) => seq > offset)).size === 20),
        20_000,
        100,
      );
      const publishedMs = Date.now() - killedAt;
      const shown = clients.map((c) => ({ ...audit(c.list(), offset, 20), rawDuplicates: rawDuplicates(c.raw) }));
      expectClean(shown);
      // One lease (10 s) plus a poll: not a second later.
      expect(publishedMs).toBeLessThan(10_000 + 3_000);
      await until("their outbox rows marked published", async () => (await unpublished()) === 0, 5_000, 100);
      report.push({
        fault: "app instance SIGKILL between commit and publish",
        sent: 20,
        stored: 20,
        publishedByTheOtherInstanceMs: publishedMs,
        duplicatesShown: 0,
        gapsLeft: shown.reduce((n, a) => n + a.gaps, 0),
        rawDuplicateEvents: shown.reduce((n, a) => n + a.rawDuplicates, 0),
      });
      for (const c of clients) c.disconnect();
    } finally {
      // Instance B as it normally runs, for the tests after this one (also when this one failed).
      await apps[1].kill();
      await startApp(1);
    }
  });

  test("Postgres restarted mid-burst: sends fail fast with SERVICE_UNAVAILABLE, retries store each message once, and both instances recover by themselves", async () => {
    const { conversationId, clients, offset } = await scenario("pg-restart");
    let downAt = 0;
    let upAt = 0;
    let fault: Promise<void> | null = null;
    const stats = await burst(conversationId, "pg", 1_000, 10, (completed) => {
      if (completed === 300 && !fault) {
        fault = (async () => {
          downAt = Date.now();
          await pg.stop();
          await sleep(3_000);
          await pg.start();
          upAt = Date.now();
        })();
      }
    });
    await fault;
    expect(stats.failures.length).toBeGreaterThan(0);
    const unclear = stats.failures.filter((f) => f.code !== "SERVICE_UNAVAILABLE");
    if (unclear.length) console.log("failures other than SERVICE_UNAVAILABLE:", unclear.slice(0, 5));
    // Never a hang, never a generic 500: a clear, retryable answer within 5 s.
    expect(new Set(stats.failures.map((f) => f.code))).toEqual(new Set(["SERVICE_UNAVAILABLE"]));
    expect(stats.slowestFailureMs).toBeLessThan(5_000);
    const stored = await storedAudit(conversationId, 1_000, offset);
    expect(stored).toMatchObject({ stored: 1_000, distinctClientMsgIds: 1_000, lastSeq: 1_000 });
    const shown = await everyoneShows(clients, offset, 1_000, 60_000);
    expectClean(shown.audits);
    for (const app of apps) expect(app.running()).toBe(true);
    // The background publishers came back too: nothing is left unpublished.
    await until("the outbox holding nothing unpublished", async () => (await unpublished()) === 0, 40_000, 250);
    report.push({
      fault: "postgres stopped (fast) and started after 3 s",
      sent: stats.sent,
      stored: stored.stored,
      failedAttempts: stats.failures.length,
      failureCodes: [...new Set(stats.failures.map((f) => f.code))],
      slowestFailureMs: Math.round(stats.slowestFailureMs),
      databaseDownMs: upAt - downAt,
      duplicatesShown: shown.audits.reduce((n, a) => n + a.duplicates, 0),
      gapsLeft: shown.audits.reduce((n, a) => n + a.gaps, 0),
      allShownMsAfterBurst: shown.ms,
    });
    for (const c of clients) c.disconnect();
  });

  test("Redis restarted mid-burst: the Soketi cluster recovers, and messages sent meanwhile reach everyone, by gap fill or the next heartbeat at the latest", async () => {
    const { conversationId, clients, offset } = await scenario("redis-restart");
    let downAt = 0;
    let upAt = 0;
    let fault: Promise<void> | null = null;
    const stats = await burst(conversationId, "rd", 600, 10, (completed) => {
      if (completed === 150 && !fault) {
        fault = (async () => {
          downAt = Date.now();
          await redis.kill();
          await sleep(2_000);
          await redis.start();
          upAt = Date.now();
        })();
      }
    });
    await fault;
    const stored = await storedAudit(conversationId, 600, offset);
    expect(stored).toMatchObject({ stored: 600, distinctClientMsgIds: 600, lastSeq: 600 });
    const burstEnded = Date.now();
    // With no later message: a tail published while the nodes could not reach each other shows
    // on the far node by the next heartbeat at the latest (its answer carries the open conversation's last seq).
    for (const c of clients) await c.beat();
    const beforeLater = await everyoneShows(clients, offset, 600, 10_000);
    expectClean(beforeLater.audits);
    // Recovered: a message published through B reaches a member on A live again.
    const onA = clients[0];
    const before = onA.raw.length;
    await until(
      "a live cross-node delivery after the restart",
      async () => {
        await apiFor(people[1], apps[1]).call("mutation", "message.send", {
          conversationId,
          clientMsgId: `rd-after-${Date.now()}`,
          body: "after redis came back",
        });
        await sleep(300);
        return onA.raw.length > before;
      },
      30_000,
      500,
    );
    const { stored: all } = await storedAudit(conversationId, 600, offset);
    const shown = await everyoneShows(clients, offset, all, 60_000);
    expectClean(shown.audits);
    report.push({
      fault: "redis SIGKILL, restarted after 2 s",
      sent: stats.sent,
      stored: stored.stored,
      failedAttempts: stats.failures.length,
      redisDownMs: upAt - downAt,
      duplicatesShown: shown.audits.reduce((n, a) => n + a.duplicates, 0),
      gapsLeft: shown.audits.reduce((n, a) => n + a.gaps, 0),
      allShownMsAfterBurst: Date.now() - burstEnded,
    });
    for (const c of clients) c.disconnect();
  });
});
