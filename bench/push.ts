// Section 10: Web Push to a large group. One "@all" message to a group whose
// members are offline, some with push on, pushed to a push service on
// loopback that decrypts every push it receives; meanwhile other users keep
// sending, and their send->ack shows whether the fan-out stalls other work.
import { createECDH, type ECDH, randomBytes } from "node:crypto";
import { Worker } from "node:worker_threads";
import { sql } from "drizzle-orm";
import { type BenchContext, clientMsgId, type SectionResult } from "./context";
import { CHORUS_ANCHORS, CHORUS_TABLES, settledWrites } from "./pgstat";
import { seedGroup, seedUsers } from "./seed";
import { percentiles, sleep } from "./stats";

type Device = { ecdh: ECDH; auth: string; p256dh: string };

type SinkMessage =
  | { type: "listening" | "undecryptable" | "closed" }
  | { type: "arrival"; at: number }
  | { type: "synced"; token: number };

/**
 * A push service on 127.0.0.1, on a worker thread (bench/push-sink-worker.mjs):
 * answers 201, decrypts each push with its device's key, notes when it arrived.
 */
async function startSink(port: number) {
  const worker = new Worker(new URL("./push-sink-worker.mjs", import.meta.url), { workerData: { port } });
  const arrivals: number[] = [];
  let undecryptable = 0;
  let onArrival: (() => void) | null = null;
  const waiters = new Map<string, () => void>();
  worker.on("message", (message: SinkMessage) => {
    if (message.type === "arrival") {
      // The worker's clock as this thread's performance.now().
      arrivals.push(message.at - performance.timeOrigin);
      onArrival?.();
    } else if (message.type === "undecryptable") {
      undecryptable++;
      onArrival?.();
    } else {
      const key = message.type === "synced" ? `synced:${message.token}` : message.type;
      waiters.get(key)?.();
      waiters.delete(key);
    }
  });
  const reply = (key: string) => new Promise<void>((resolve) => waiters.set(key, resolve));
  await reply("listening");
  let syncs = 0;
  return {
    arrivals,
    undecryptable: () => undecryptable,
    device(id: string): Device & { endpoint: string } {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const device = {
        ecdh,
        auth: randomBytes(16).toString("base64url"),
        p256dh: ecdh.getPublicKey().toString("base64url"),
      };
      worker.postMessage({
        type: "device",
        id,
        privateKey: ecdh.getPrivateKey().toString("base64url"),
        auth: device.auth,
      });
      return { ...device, endpoint: `http://127.0.0.1:${port}/push/${id}` };
    },
    /** Resolves once the worker has every device registered so far. */
    async ready(): Promise<void> {
      const token = ++syncs;
      const synced = reply(`synced:${token}`);
      worker.postMessage({ type: "sync", token });
      await synced;
    },
    /** Resolves once `count` pushes in all arrived, or after `timeoutMs`. */
    async until(count: number, timeoutMs: number): Promise<void> {
      const deadline = performance.now() + timeoutMs;
      while (arrivals.length < count && performance.now() < deadline) {
        await new Promise<void>((resolve) => {
          onArrival = resolve;
          setTimeout(resolve, 200);
        });
      }
      onArrival = null;
    },
    async close() {
      const closed = reply("closed");
      worker.postMessage({ type: "close" });
      await closed;
      await worker.terminate();
    },
  };
}

/** Other users sending at a fixed rate until stopped; their send->ack latencies. */
function bystanders(ctx: BenchContext, senders: BenchContext["pool"], groups: string[]) {
  const acks: number[] = [];
  let errors = 0;
  let stopped = false;
  const interval = (1000 * senders.length) / ctx.sizes.pushOtherRate;
  const running = senders.map(async (session, i) => {
    await sleep((interval * i) / senders.length);
    for (let n = 0; !stopped; n++) {
      const t0 = performance.now();
      try {
        await session.call("mutation", "message.send", {
          conversationId: groups[i],
          clientMsgId: clientMsgId("pb"),
          body: `bystander ${n}`,
        });
        acks.push(performance.now() - t0);
      } catch {
        errors++;
      }
      await sleep(Math.max(0, interval - (performance.now() - t0)));
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(running);
      return { ack: percentiles(acks), sent: acks.length, errors };
    },
  };
}

export async function pushSection(ctx: BenchContext): Promise<SectionResult> {
  const { target, sizes, pool, log } = ctx;
  const sink = await startSink(target.push.sinkPort);
  const planner = target.push.startPlanner?.();
  try {
    const owner = pool[0];
    const members = await seedUsers(target.db, sizes.pushGroupSize - 1, "push", target.passwordHash);
    const group = await seedGroup(target.db, `push ${sizes.pushGroupSize}`, [
      owner.user.id,
      ...members.map((u) => u.id),
    ]);
    const subscribed = members.slice(0, sizes.pushSubscribed);
    log(`push: a group of ${sizes.pushGroupSize}, ${subscribed.length} offline members with push on`);
    for (let i = 0; i < subscribed.length; i += 500) {
      const rows = subscribed.slice(i, i + 500).map((u) => ({ user: u.id, ...sink.device(u.id) }));
      await target.db.execute(sql`insert into push_subscriptions (endpoint, user_id, p256dh, auth)
        select * from unnest(${`{${rows.map((r) => `"${r.endpoint}"`).join(",")}}`}::text[],
          ${`{${rows.map((r) => r.user).join(",")}}`}::uuid[],
          ${`{${rows.map((r) => r.p256dh).join(",")}}`}::text[], ${`{${rows.map((r) => r.auth).join(",")}}`}::text[])`);
    }
    await sink.ready();
    const senders = pool.slice(1, 1 + sizes.pushOtherSenders);
    const peers = await seedUsers(target.db, senders.length, "pushpeer", target.passwordHash);
    const groups: string[] = [];
    for (const [i, s] of senders.entries()) {
      groups.push((await seedGroup(target.db, `push bystander ${i}`, [s.user.id, peers[i].id])).id);
    }
    const windowMs = sizes.name === "tiny" ? 1000 : 3000;
    const waitMs = sizes.waitSeconds * 1000;

    // The fan-out alone: time to plan and send every push, and the rows the message cost.
    const before = await settledWrites(target.db, [...CHORUS_TABLES, "push_subscriptions"], CHORUS_ANCHORS);
    let t0 = performance.now();
    await owner.call("mutation", "message.send", {
      conversationId: group.id,
      clientMsgId: clientMsgId("push"),
      body: "@all the release is out",
    });
    await sink.until(subscribed.length, waitMs);
    const alone = {
      delivered: sink.arrivals.length,
      firstMs: (sink.arrivals[0] ?? Number.NaN) - t0,
      allSeconds: ((sink.arrivals.at(-1) ?? Number.NaN) - t0) / 1000,
    };
    const after = await settledWrites(target.db, [...CHORUS_TABLES, "push_subscriptions"], CHORUS_ANCHORS);
    const rows = after.writes - before.writes;
    log(
      `push: ${alone.delivered}/${subscribed.length} pushes in ${alone.allSeconds.toFixed(2)} s; ${rows} rows written`,
    );

    // Other users' sends, quiet and then beside a second fan-out.
    const quietRun = bystanders(ctx, senders, groups);
    await sleep(windowMs);
    const quiet = await quietRun.stop();
    const busyRun = bystanders(ctx, senders, groups);
    await sleep(windowMs / 3);
    const already = sink.arrivals.length;
    t0 = performance.now();
    await owner.call("mutation", "message.send", {
      conversationId: group.id,
      clientMsgId: clientMsgId("push"),
      body: "@all one more thing",
    });
    await sink.until(already + subscribed.length, waitMs);
    const besideSeconds = ((sink.arrivals.at(-1) ?? Number.NaN) - t0) / 1000;
    const besideDelivered = sink.arrivals.length - already;
    const busy = await busyRun.stop();

    const data = {
      groupSize: sizes.pushGroupSize,
      subscribed: subscribed.length,
      alone,
      rowsForTheMessage: rows,
      beside: { delivered: besideDelivered, allSeconds: besideSeconds },
      undecryptable: sink.undecryptable(),
      others: { senders: senders.length, rate: sizes.pushOtherRate, quiet, busy },
    };
    return {
      data,
      tables: [
        {
          title: "10. Push",
          workload: `one group of ${sizes.pushGroupSize} members, ${subscribed.length} offline with push on, one "@all" message; a push service on loopback decrypts every push; ${senders.length} other users send to their own groups at ${sizes.pushOtherRate} msg/s in all, ${windowMs / 1000} s quiet, then beside a second fan-out`,
          columns: ["measure", "value"],
          rows: [
            ["pushes delivered (decrypted)", `${alone.delivered}/${subscribed.length}`],
            ["send -> first push, ms", alone.firstMs],
            ["send -> every push planned and sent, s", alone.allSeconds],
            ["pushes/s", alone.delivered / alone.allSeconds],
            ["rows written for the message (send + planning)", rows],
            ["others' send->ack p50 / p99, quiet (ms)", `${quiet.ack.p50.toFixed(1)} / ${quiet.ack.p99.toFixed(1)}`],
            [
              "others' send->ack p50 / p99, during a fan-out (ms)",
              `${busy.ack.p50.toFixed(1)} / ${busy.ack.p99.toFixed(1)}`,
            ],
            ["every push beside the other sends, s", besideSeconds],
          ],
          notes: [
            `the push planner reads recipients in batches of 500 and keeps 50 pushes in flight; rows written do not grow with the group (the send's own rows plus one outbox update when planned)`,
            `${sink.undecryptable()} pushes could not be decrypted; others' sends: ${quiet.sent} quiet, ${busy.sent} during (${quiet.errors + busy.errors} failed)`,
          ],
        },
      ],
    };
  } finally {
    await planner?.stop();
    await sink.close();
  }
}
