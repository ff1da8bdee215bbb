import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDrivers } from "@/db/testing";
import type { BenchReport } from "./bench";
import type { Target } from "./target";

// The smoke run: every section of `npm run bench` at tiny sizes, in-process
// (routers through createCaller, a real test Soketi), so the bench cannot rot.
process.env.MESSAGE_RATE_LIMIT = "1000000000";
process.env.MUTATION_RATE_LIMIT = "1000000000";

const numbersIn = (rows: (string | number)[][]) => rows.flat().filter((c) => typeof c === "number") as number[];

describe.each(testDrivers)("the bench at tiny sizes (%s)", (driver) => {
  let target: Target;
  let report: BenchReport;

  beforeAll(async () => {
    const { startInProcessTarget } = await import("./in-process-target");
    const { runBench } = await import("./bench");
    const { SIZES } = await import("./sizes");
    target = await startInProcessTarget(driver);
    report = await runBench(target, SIZES.tiny, () => {});
  }, 300_000);

  afterAll(async () => {
    await target?.close();
  });

  it("prints every in-process section, each with numbers (the API floor and footprint need the HTTP server)", () => {
    const titles = report.tables.map((t) => t.title);
    for (const n of ["2.", "3.", "4.", "5.", "6.", "7.", "8.", "10."])
      expect(titles.some((t) => t.startsWith(n))).toBe(true);
    for (const n of ["1.", "9."]) expect(titles.some((t) => t.startsWith(n))).toBe(false);
    for (const table of report.tables) {
      expect(table.rows.length).toBeGreaterThan(0);
      expect(numbersIn(table.rows).some(Number.isFinite)).toBe(true);
    }
  });

  it("sends and delivers every message, for Chorus and the baseline", () => {
    const send = report.sections.send as {
      throughput: { sent: number; errors: number }[];
      latency: { delivered: number; expected: number }[];
    };
    for (const run of send.throughput) {
      expect(run.errors).toBe(0);
      expect(run.sent).toBeGreaterThan(0);
    }
    for (const l of send.latency) expect(l.delivered).toBe(l.expected);
    const fanout = report.sections.fanout as { runs: { delivered: number; expected: number }[] };
    for (const run of fanout.runs) expect(run.delivered).toBe(run.expected);
  });

  it("heartbeats every user and delivers every message beside them", () => {
    const h = report.sections.heartbeats as {
      windows: {
        name: string;
        beats?: { ok: number; failed: number };
        deliver?: { delivered: number; expected: number };
      }[];
      warm: { ok: number; failed: number };
    };
    expect(h.warm.failed).toBe(0);
    expect(h.warm.ok).toBeGreaterThan(0);
    expect(h.windows.map((w) => w.name)).toEqual(["idle", "messages", "heartbeats", "messages + heartbeats"]);
    for (const w of h.windows) {
      if (w.beats) {
        expect(w.beats.failed).toBe(0);
        expect(w.beats.ok).toBeGreaterThan(0);
      }
      if (w.deliver) expect(w.deliver.delivered).toBe(w.deliver.expected);
    }
  });

  it("writes the same rows per message whatever the group size", () => {
    const fanout = report.sections.fanout as {
      runs: { impl: string; rowsPerMessage: number }[];
      rowsPerMessageEqual: boolean;
    };
    const chorus = fanout.runs.filter((r) => r.impl === "chorus");
    expect(chorus.map((r) => r.rowsPerMessage)).toEqual(chorus.map(() => chorus[0].rowsPerMessage));
    expect(fanout.rowsPerMessageEqual).toBe(true);
    expect(chorus[0].rowsPerMessage).toBeGreaterThan(0);
    const baseline = fanout.runs.filter((r) => r.impl === "baseline").map((r) => r.rowsPerMessage);
    expect(baseline.at(-1)).toBeGreaterThan(baseline[0]);
  });

  it("re-subscribes every client after a reconnect with about one auth request each", () => {
    const r = report.sections.reconnect as {
      clients: number;
      authRequests: number;
      subscribed: number;
      expected: number;
    };
    expect(r.subscribed).toBe(r.expected);
    expect(r.authRequests).toBeGreaterThanOrEqual(r.clients);
    expect(r.authRequests).toBeLessThanOrEqual(r.clients * 2);
  });

  it("pushes an @all message to every offline member with push on, decrypted at the local push service", () => {
    const push = report.sections.push as {
      subscribed: number;
      alone: { delivered: number };
      beside: { delivered: number };
      undecryptable: number;
      rowsForTheMessage: number;
      others: { busy: { errors: number; sent: number } };
    };
    expect(push.subscribed).toBeGreaterThan(0);
    expect(push.alone.delivered).toBe(push.subscribed);
    expect(push.beside.delivered).toBe(push.subscribed);
    expect(push.undecryptable).toBe(0);
    expect(push.others.busy.errors).toBe(0);
    expect(push.others.busy.sent).toBeGreaterThan(0);
    // The rows of any send plus the planner's one outbox update: none per member or per push.
    const fanout = report.sections.fanout as { runs: { impl: string; rowsPerMessage: number }[] };
    const sendRows = fanout.runs.find((r) => r.impl === "chorus")?.rowsPerMessage ?? Number.NaN;
    expect(push.rowsForTheMessage).toBeGreaterThan(0);
    expect(push.rowsForTheMessage).toBeLessThanOrEqual(Math.ceil(sendRows) + 1);
  });
});
