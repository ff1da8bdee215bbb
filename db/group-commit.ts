import { fillPlaceholders, type SQL } from "drizzle-orm";
import { logger } from "@/server/logger";
import { rowsOf } from "./client";
import { preparedRows, renderedStatement } from "./prepared";
import type { Db } from "./types";

/**
 * Group commit for one hot single-statement write (a send): executions that
 * arrive while earlier ones are in flight wait and then share one
 * transaction, one round of pipelined statements and one commit. A commit is
 * a WAL flush; on a busy server it cost a send as much CPU in Postgres as
 * the statement's biggest index. Alone, an execution runs by itself as
 * before, so a quiet server's latency is unchanged.
 *
 * On postgres.js the group is one round trip: BEGIN, the statements and
 * COMMIT are written together on a reserved connection. Through a drizzle
 * transaction, BEGIN and COMMIT were each a round trip of their own, and the
 * backend sat idle in the transaction for a third of the group's time while a
 * busy event loop got round to sending the next part.
 *
 * Every statement of a group must succeed for the group to commit. When one
 * fails (a unique violation from a concurrent resend, a deadlock, anything),
 * the group rolls back whole and each execution runs again on its own, so each
 * gets the answer it would have had alone and nothing is written twice.
 */
export type GroupCommitOptions = {
  /** Groups in flight at once: the rest of the pool stays free for other requests. */
  maxInFlight: number;
  /** Executions per group. */
  maxGroup: number;
  /**
   * Executions in a group run in this order. Statements that lock rows must
   * take them in one global order, or two groups could deadlock.
   */
  orderKey: (values: Record<string, unknown>) => string;
};

type Waiting = {
  values: Record<string, unknown>;
  resolve: (rows: Record<string, unknown>[]) => void;
  reject: (error: unknown) => void;
};

type Lane = { inFlight: number; queue: Waiting[] };

export type GroupStats = { groups: number; grouped: number; retriedAlone: number };

const lanesByDb = new WeakMap<object, Map<string, Lane>>();
const statsByDb = new WeakMap<object, GroupStats>();

/** How many groups ran on this handle, how many executions shared one, how many were retried alone. */
export function groupCommitStats(db: Db): GroupStats {
  let stats = statsByDb.get(db);
  if (!stats) {
    stats = { groups: 0, grouped: 0, retriedAlone: 0 };
    statsByDb.set(db, stats);
  }
  return stats;
}

/** Runs the statement `build` renders (see preparedRows) with `values`, grouped with concurrent executions. */
export function groupCommitRows<T extends Record<string, unknown>>(
  db: Db,
  name: string,
  build: () => SQL,
  values: Record<string, unknown>,
  options: GroupCommitOptions,
): Promise<T[]> {
  let lanes = lanesByDb.get(db);
  if (!lanes) {
    lanes = new Map();
    lanesByDb.set(db, lanes);
  }
  const lane = lanes.get(name) ?? { inFlight: 0, queue: [] };
  lanes.set(name, lane);
  return new Promise<T[]>((resolve, reject) => {
    lane.queue.push({ values, resolve: resolve as Waiting["resolve"], reject });
    drain(db, name, build, lane, options);
  });
}

function drain(db: Db, name: string, build: () => SQL, lane: Lane, options: GroupCommitOptions) {
  while (lane.inFlight < options.maxInFlight && lane.queue.length > 0) {
    const group = lane.queue.splice(0, options.maxGroup);
    lane.inFlight += 1;
    void runGroup(db, name, build, group, options).finally(() => {
      lane.inFlight -= 1;
      drain(db, name, build, lane, options);
    });
  }
}

async function runAlone(db: Db, name: string, build: () => SQL, item: Waiting) {
  try {
    item.resolve(await preparedRows(db, name, build, item.values));
  } catch (error) {
    item.reject(error);
  }
}

async function runGroup(db: Db, name: string, build: () => SQL, group: Waiting[], options: GroupCommitOptions) {
  if (group.length === 1) return runAlone(db, name, build, group[0]);
  const ordered = [...group].sort((a, b) => {
    const x = options.orderKey(a.values);
    const y = options.orderKey(b.values);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  let results: Record<string, unknown>[][];
  try {
    const client = pipeliningClient(db);
    results = client
      ? await pipelinedTransaction(client, name, build, ordered)
      : await db.transaction((tx) => Promise.all(ordered.map((item) => preparedRows(tx, name, build, item.values))));
  } catch (error) {
    // Rolled back whole: each runs again alone and gets its own answer (its own error, if it has one).
    logger.debug({ err: error, statement: name, executions: ordered.length }, "group rolled back; each runs alone");
    groupCommitStats(db).retriedAlone += ordered.length;
    await Promise.all(ordered.map((item) => runAlone(db, name, build, item)));
    return;
  }
  const stats = groupCommitStats(db);
  stats.groups += 1;
  stats.grouped += ordered.length;
  for (const [i, item] of ordered.entries()) item.resolve(results[i]);
}

type ReservedConnection = {
  unsafe: (query: string, parameters?: unknown[], options?: { prepare?: boolean }) => Promise<unknown>;
  release: () => void;
};
type PipeliningClient = { reserve: () => Promise<ReservedConnection> };

/** postgres.js's client behind a drizzle handle; PGlite (one connection, in process) has no reserve. */
function pipeliningClient(db: Db): PipeliningClient | null {
  const client = (db as unknown as { $client?: Partial<PipeliningClient> }).$client;
  return typeof client?.reserve === "function" ? (client as PipeliningClient) : null;
}

async function pipelinedTransaction(
  client: PipeliningClient,
  name: string,
  build: () => SQL,
  group: Waiting[],
): Promise<Record<string, unknown>[][]> {
  const query = renderedStatement(name, build);
  const connection = await client.reserve();
  try {
    // Each message is followed by its own Sync, so a failed statement fails alone and the rest
    // of the transaction then refuses (25P02); COMMIT of a failed transaction rolls it back.
    const settled = await Promise.allSettled([
      connection.unsafe("begin"),
      ...group.map((item) =>
        connection.unsafe(query.sql, fillPlaceholders(query.params, item.values), { prepare: true }),
      ),
      connection.unsafe("commit"),
    ]);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    const commit = (settled.at(-1) as PromiseFulfilledResult<{ command?: string }>).value;
    if (commit.command !== "COMMIT") throw new Error(`the group's transaction ended with ${commit.command}`);
    return settled
      .slice(1, -1)
      .map((s) => rowsOf<Record<string, unknown>>((s as PromiseFulfilledResult<unknown>).value));
  } finally {
    connection.release();
  }
}
