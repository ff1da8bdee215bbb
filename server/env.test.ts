import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function loadEnv(vars: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", "-e", "await import('./server/env.js')"], {
    env: { PATH: process.env.PATH, NODE_ENV: "test", ...vars },
    encoding: "utf8",
  });
}

describe("configuration", () => {
  it("starts with nothing set: every variable has a safe local default", () => {
    const result = loadEnv({});
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it.each([
    ["PORT", "not-a-port"],
    ["DATABASE_URL", "mysql://root@localhost/chorus"],
    ["SOKETI_PORT", "70000"],
    ["AUTH_SECRET", "too-short"],
    ["LOG_LEVEL", "loud"],
    ["VAPID_PUBLIC_KEY", "not-a-key"],
    ["VAPID_SUBJECT", "http://example.com"],
    ["WEB_PUSH_ALLOW_HOSTS", "127.0.0.1"],
  ])("refuses a bad %s with a message naming it", (name, value) => {
    const result = loadEnv({ [name]: value });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`${name}:`);
  });
});

describe("secrets on the embedded default", () => {
  const readSecret = (dataDir: string, extra: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      ["--import", "tsx", "-e", "const m = await import('./server/config/secrets.ts'); console.log(m.authSecret())"],
      { env: { PATH: process.env.PATH, NODE_ENV: "test", DATA_DIR: dataDir, ...extra }, encoding: "utf8" },
    );

  it("generates AUTH_SECRET once, keeps it under DATA_DIR, and never shares one between installs", async () => {
    const { mkdtempSync, statSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const first = mkdtempSync(path.join(tmpdir(), "chorus-secrets-"));
    const second = mkdtempSync(path.join(tmpdir(), "chorus-secrets-"));
    const a = readSecret(first).stdout.trim();
    const again = readSecret(first).stdout.trim();
    const other = readSecret(second).stdout.trim();
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(again).toBe(a);
    expect(other).not.toBe(a);
    expect(statSync(path.join(first, "secrets.json")).mode & 0o777).toBe(0o600);
  });

  it("requires AUTH_SECRET when DATABASE_URL is set, since app instances must share it", () => {
    const result = readSecret("/tmp", { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("AUTH_SECRET must be set when DATABASE_URL is set");
  });

  const readVapid = (dataDir: string, extra: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        "const m = await import('./server/config/secrets.ts'); console.log(JSON.stringify(m.vapidDetails()))",
      ],
      { env: { PATH: process.env.PATH, NODE_ENV: "test", DATA_DIR: dataDir, ...extra }, encoding: "utf8" },
    );

  it("generates the VAPID key pair once into DATA_DIR, so subscriptions survive a restart", async () => {
    const { mkdtempSync, statSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = mkdtempSync(path.join(tmpdir(), "chorus-vapid-"));
    const first = JSON.parse(readVapid(dir).stdout);
    expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(first.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.subject).toMatch(/^mailto:/);
    expect(JSON.parse(readVapid(dir).stdout)).toEqual(first);
    expect(statSync(path.join(dir, "vapid.json")).mode & 0o777).toBe(0o600);
  });

  it("requires the VAPID variables when DATABASE_URL is set", () => {
    const result = readVapid("/tmp", { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT must all be set");
  });
});
