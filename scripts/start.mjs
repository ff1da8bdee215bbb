// `npm start` (and `npm run build` with --build-only): build when the sources
// changed, then run the bundled server (server/main.ts) in THIS process: no
// npm → tsx → next CLI → next-server chain, one Node process serving everything.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
process.env.CHORUS_ROOT = root;
const buildOnly = process.argv.includes("--build-only");
const buildStep = process.argv.includes("--build-step");
const distDir = path.resolve(root, process.env.NEXT_DIST_DIR || ".next");
const serverBundle = path.join(distDir, "chorus", "server.mjs");
// The `npm run soketi` node, which the server runs as a child process on Node 20 when it is on another Node.
const soketiBundle = path.join(distDir, "chorus", "soketi.mjs");
const hashFile = path.join(distDir, "chorus-source-hash");
// The migrated empty database the embedded default starts from (db/pglite-template.ts).
const pgliteTemplate = path.join(distDir, "chorus", "pglite-template.tar");

/** A hash of everything the build depends on, so a pulled change triggers a rebuild. */
function sourceHash() {
  const hash = createHash("sha256");
  const walk = (p) => {
    if (statSync(p).isDirectory()) {
      for (const entry of readdirSync(p).sort()) walk(path.join(p, entry));
    } else if (/\.(tsx?|m?js|css|json|sql|patch)$/.test(p) && !/\.test\.tsx?$/.test(p)) {
      hash.update(p).update(readFileSync(p));
    }
  };
  for (const entry of [
    "app",
    "components",
    "server",
    "db",
    "lib",
    "types",
    "proxy.ts",
    "scripts/soketi.ts",
    "next.config.mjs",
    "package-lock.json",
    // Fixes to dependencies (patch-package): bundled code must be rebuilt when one changes.
    "patches",
    "tsconfig.json",
  ]) {
    if (existsSync(entry)) walk(entry);
  }
  return hash.digest("hex");
}

function needsBuild() {
  const current = existsSync(hashFile) ? readFileSync(hashFile, "utf8") : "";
  return (
    !existsSync(path.join(distDir, "BUILD_ID")) ||
    !existsSync(serverBundle) ||
    !existsSync(soketiBundle) ||
    !existsSync(pgliteTemplate) ||
    current !== sourceHash()
  );
}

/** Runs in a child process of its own, so the serving process never carries the build's memory. */
async function build() {
  const wanted = sourceHash();
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  const built = spawnSync(process.execPath, [nextBin, "build"], {
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  });
  if (built.status !== 0) fail("`next build` failed (see above).");
  const esbuild = await import("esbuild");
  // Our own code is bundled; packages load from node_modules as usual.
  await esbuild.build({
    entryPoints: {
      server: path.join(root, "server", "main.ts"),
      soketi: path.join(root, "scripts", "soketi.ts"),
      "pglite-template": path.join(root, "db", "pglite-template.ts"),
    },
    outdir: path.dirname(serverBundle),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "warning",
  });
  await esbuild.stop();
  const template = spawnSync(
    process.execPath,
    [path.join(path.dirname(serverBundle), "pglite-template.mjs"), pgliteTemplate],
    { stdio: "inherit" },
  );
  if (template.status !== 0) fail("writing the embedded database's template failed (see above).");
  writeFileSync(hashFile, wanted);
}

function fail(message) {
  console.error(`\nChorus cannot start: ${message}\n`);
  process.exit(1);
}

if (buildStep) {
  await build();
  process.exit(0);
}
if (needsBuild()) {
  console.log("Building Chorus (first start or changed sources)...");
  const built = spawnSync(process.execPath, [import.meta.filename, "--build-step"], { stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
if (!buildOnly) {
  process.env.CHORUS_PGLITE_TEMPLATE = pgliteTemplate;
  await import(pathToFileURL(serverBundle).href);
}
