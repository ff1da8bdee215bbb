// Small measuring helpers: percentiles, rates and the printed tables.

export type Percentiles = { n: number; p50: number; p95: number; p99: number; max: number };

export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { n: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] };
}

export const round = (value: number, digits = 1) =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : value;

export const ms = (value: number) => (Number.isFinite(value) ? `${round(value, value < 10 ? 2 : 1)} ms` : "n/a");

export const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : Number.NaN);

export function fmt(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const abs = Math.abs(value);
  if (abs === 0 || Number.isInteger(value)) return String(value);
  if (abs < 1) return value.toPrecision(2);
  return String(round(value, abs < 100 ? 1 : 0));
}

export function elapsedMs(start: number): number {
  return performance.now() - start;
}

export const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis));

/** Runs `work` at a fixed rate (per second) `count` times; resolves when every started call settled. */
export async function atRate(count: number, perSecond: number, work: (i: number) => Promise<void>): Promise<void> {
  const interval = 1000 / perSecond;
  const start = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    running.push(work(i));
  }
  await Promise.all(running);
}

/** Maps with at most `limit` calls in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export type Table = {
  title: string;
  workload: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
};

export function renderTable(table: Table): string {
  const cells = [table.columns, ...table.rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)));
  const line = (r: (string | number)[]) => `  ${r.map((c, i) => String(c ?? "").padEnd(widths[i])).join("  ")}`;
  const out = [
    `\n== ${table.title}`,
    `   ${table.workload}`,
    line(cells[0]),
    `  ${widths.map((w) => "-".repeat(w)).join("  ")}`,
  ];
  for (const r of cells.slice(1)) out.push(line(r));
  for (const note of table.notes ?? []) out.push(`   * ${note}`);
  return out.join("\n");
}
