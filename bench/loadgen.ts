// The parent side of bench/loadgen-child.ts: a forked process per load
// generator, driven over IPC; its process id lets the bench read its CPU.
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { stopTree } from "./proc";

export type RequestStats = {
  ok: number;
  failed: number;
  firstError: string | null;
  seconds: number;
  /** Successful requests per second. */
  perSecond: number;
  /** ms per successful request. */
  latencies: number[];
  /** The generator's own CPU over the same time (user + system). */
  cpuSeconds: number;
  inFlight?: number;
};

export type AutocannonJob = {
  type: "autocannon";
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
};

export type HeartbeatJob = {
  type: "heartbeats";
  baseUrl: string;
  authSecret: string;
  users: { id: string; username: string }[];
  /** The conversation every beat names as open (the browser sends the one on screen). */
  open: string;
  /** Overall steady rate, beats per second. */
  perSecond: number;
  /** Parallel requests for the first (unmeasured) beat of every user. */
  warmConcurrency: number;
  /** Keep-alive sockets to the server. */
  sockets: number;
};

export type LoadJob = AutocannonJob | HeartbeatJob;

export type LoadReply =
  | { type: "measuring" }
  | { type: "result"; stats: RequestStats }
  | { type: "minted"; users: number }
  | { type: "warmed"; stats: RequestStats }
  | { type: "mark"; stats: RequestStats }
  | { type: "error"; message: string };

export class LoadChild {
  private readonly child: ChildProcess;
  private readonly inbox: LoadReply[] = [];
  private waiter: (() => void) | null = null;
  private exited = false;

  constructor(job: LoadJob) {
    this.child = fork(path.join(import.meta.dirname, "loadgen-child.ts"), [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (reply: LoadReply) => {
      this.inbox.push(reply);
      this.waiter?.();
    });
    this.child.once("exit", () => {
      this.exited = true;
      this.waiter?.();
    });
    this.child.send(job);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  command(cmd: "mark" | "stop") {
    this.child.send({ cmd });
  }

  /** The next reply of this type (earlier replies of other types are dropped); an "error" reply throws. */
  async next<T extends LoadReply["type"]>(type: T, timeoutMs: number): Promise<Extract<LoadReply, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.inbox.shift();
      if (reply?.type === "error") throw new Error(`load generator failed: ${reply.message}`);
      if (reply?.type === type) return reply as Extract<LoadReply, { type: T }>;
      if (reply) continue;
      if (this.exited) throw new Error(`the load generator exited before "${type}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${type}" from the load generator within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  close(): Promise<void> {
    return stopTree(this.child, 5_000);
  }
}

/** One autocannon run in its own process; `onMeasuring` fires when the warm-up is over. */
export async function autocannonInChild(
  job: Omit<AutocannonJob, "type">,
  onMeasuring: () => void | Promise<void>,
): Promise<RequestStats> {
  const child = new LoadChild({ type: "autocannon", ...job });
  try {
    await child.next("measuring", (job.warmupSeconds + 60) * 1000);
    await onMeasuring();
    return (await child.next("result", (job.seconds + 60) * 1000)).stats;
  } finally {
    await child.close();
  }
}
