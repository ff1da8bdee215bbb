// `npm run bench [-- --quick | --tiny] [--only=floor,send,...]`: the production
// server on a fresh Postgres database (DATABASE_URL, default the local one),
// driven over loopback; prints the tables and writes bench/results/latest.json
// (a partial run with --only writes bench/results/partial.json instead).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { reportHeadline, runBench, SECTION_NAMES, type SectionName } from "./bench";
import { startHttpTarget } from "./http-target";
import { SIZES } from "./sizes";

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
process.env.LOG_LEVEL ??= "warn";
const args = new Set(process.argv.slice(2));
const onlyArg = [...args].find((a) => a.startsWith("--only="));
const only = new Set((onlyArg ? onlyArg.slice("--only=".length).split(",") : SECTION_NAMES) as SectionName[]);
const unknown = [...only].filter((name) => !(SECTION_NAMES as readonly string[]).includes(name));
if (unknown.length) {
  console.error(`unknown bench section ${unknown.join(", ")}; sections: ${SECTION_NAMES.join(", ")}`);
  process.exit(2);
}
const sizes = args.has("--tiny") ? SIZES.tiny : args.has("--quick") ? SIZES.quick : SIZES.full;
const adminUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const started = performance.now();
const log = (line: string) =>
  console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

const target = await startHttpTarget({ adminUrl, log });
let failed = false;
try {
  const report = await runBench(target, sizes, log, (text) => console.log(text), only);
  console.log(`\n${reportHeadline(report)}`);
  const out = path.join(import.meta.dirname, "results", onlyArg ? "partial.json" : "latest.json");
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${out}`);
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await target.close();
}
process.exit(failed ? 1 : 0);
