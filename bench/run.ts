// `npm run bench [-- --quick | --tiny]`: the production server on a fresh
// Postgres database (DATABASE_URL, default the local one), driven over
// loopback; prints the tables and writes bench/results/latest.json.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { reportHeadline, runBench } from "./bench";
import { startHttpTarget } from "./http-target";
import { SIZES } from "./sizes";

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
process.env.LOG_LEVEL ??= "warn";
const args = new Set(process.argv.slice(2));
const sizes = args.has("--tiny") ? SIZES.tiny : args.has("--quick") ? SIZES.quick : SIZES.full;
const adminUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const started = performance.now();
const log = (line: string) =>
  console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

const target = await startHttpTarget({ adminUrl, log });
let failed = false;
try {
  const report = await runBench(target, sizes, log, (text) => console.log(text));
  console.log(`\n${reportHeadline(report)}`);
  const out = path.join(import.meta.dirname, "results", "latest.json");
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${out}`);
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await target.close();
}
process.exit(failed ? 1 : 0);
