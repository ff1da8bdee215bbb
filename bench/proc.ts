// Linux /proc readings of a process tree: CPU ticks and resident memory.
import { existsSync, readdirSync, readFileSync } from "node:fs";

export const hasProc = existsSync("/proc/self/stat");

/** Clock ticks per second (USER_HZ): 100 on every Linux the bench runs on. */
const TICKS_PER_SECOND = 100;

/** A process and its descendants, from Linux /proc; ticks = user + system CPU. */
export function processTree(rootPid: number): { pids: number[]; ticks: number; started: Map<number, string> } {
  const stats = new Map<number, { ppid: number; ticks: number; started: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
        started: fields[19],
      });
    } catch {
      // The process ended while we were reading.
    }
  }
  let ticks = 0;
  const pids: number[] = [];
  const walk = (pid: number) => {
    const stat = stats.get(pid);
    if (!stat) return;
    pids.push(pid);
    ticks += stat.ticks;
    for (const [child, s] of stats) if (s.ppid === pid) walk(child);
  };
  walk(rootPid);
  return { pids, ticks, started: new Map(pids.map((pid) => [pid, stats.get(pid)?.started ?? ""])) };
}

/** When a process started (in ticks since boot), to tell it from a later one that reused its id. */
function startedAt(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) used so far by a process and its descendants; NaN without /proc. */
export function treeCpuSeconds(rootPid: number | undefined): number {
  return hasProc && rootPid ? processTree(rootPid).ticks / TICKS_PER_SECOND : Number.NaN;
}

/** Resident memory (VmRSS) summed over a process and its descendants, in bytes; NaN without /proc. */
export function treeRssBytes(rootPid: number | undefined): number {
  if (!hasProc || !rootPid) return Number.NaN;
  let bytes = 0;
  for (const pid of processTree(rootPid).pids) {
    try {
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) bytes += Number(match[1]) * 1024;
    } catch {
      // Gone.
    }
  }
  return bytes;
}

/** SIGTERM to the root, up to `graceMs` for it to exit, then SIGKILL to whatever of its tree is left, by id. */
export async function stopTree(
  child: {
    pid?: number;
    exitCode: number | null;
    signalCode?: NodeJS.Signals | null;
    kill(signal?: NodeJS.Signals): boolean;
    once(event: "exit", fn: () => void): unknown;
  },
  graceMs = 15_000,
): Promise<void> {
  if (!child.pid) return;
  // Descendants are recorded before the signal: once the root exits they are re-parented.
  const tree = hasProc ? processTree(child.pid).started : new Map<number, string>();
  if (child.exitCode === null && !child.signalCode) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs))]);
  }
  for (const [pid, started] of tree) {
    // Only the very processes recorded above, never a later process that got a freed id.
    if (startedAt(pid) !== started) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** CPU seconds used so far by each of these processes (no descendants); missing ones are left out. */
export function pidsCpuSeconds(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  if (!hasProc) return out;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // Gone.
    }
  }
  return out;
}

/** The whole machine's CPU so far, in seconds: busy (not idle or waiting for I/O) and in all, over every core. */
export function machineCpuSeconds(): { busy: number; total: number } {
  if (!hasProc) return { busy: Number.NaN, total: Number.NaN };
  const [line] = readFileSync("/proc/stat", "utf8").split("\n");
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3] + ticks[4];
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}
