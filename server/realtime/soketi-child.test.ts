import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import PusherServer from "pusher";
import Pusher from "pusher-js";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/realtime";
import { type SoketiChild, startSoketiChild } from "./soketi-child";

const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(tmpdir(), "chorus-soketi-child-"));
const app = { id: "chorus-child-test", key: "chorus-child-key", secret: "chorus-child-secret-0123456789" };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const childEnv = (port: number): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: "production",
  LOG_LEVEL: "warn",
  DATA_DIR: dataDir,
  SOKETI_PORT: String(port),
  PUSHER_APP_ID: app.id,
  PUSHER_KEY: app.key,
  PUSHER_SECRET: app.secret,
});

/** The app's side: the same `npm run soketi` entry, here on this test's own Node (20, which Soketi loads on). */
function start(port: number) {
  return startSoketiChild({
    node: process.execPath,
    args: ["--import", "tsx", path.join(root, "scripts", "soketi.ts")],
    cwd: root,
    env: childEnv(port),
    port,
    restart: { minDelayMs: 100, maxDelayMs: 1_000 },
  });
}

/** A pusher-js client on a public channel receives what the app publishes with the secret it passed. */
async function deliversThrough(child: SoketiChild, text: string) {
  const client = new Pusher(app.key, {
    cluster: "",
    wsHost: "127.0.0.1",
    wsPort: child.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
  });
  try {
    const channel = client.subscribe("child-check");
    await new Promise<void>((resolve) => channel.bind("pusher:subscription_succeeded", () => resolve()));
    const received = new Promise<{ text: string }>((resolve) => channel.bind("note", resolve));
    const publisher = new PusherServer({
      appId: app.id,
      key: app.key,
      secret: app.secret,
      host: "127.0.0.1",
      port: String(child.port),
      useTLS: false,
    });
    await publisher.trigger("child-check", "note", { text });
    expect(await received).toEqual({ text });
  } finally {
    client.disconnect();
  }
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the embedded Soketi as a child process", () => {
  it("serves clients, comes back after it is killed, and stops on request", async () => {
    const child = await start(await freePort());
    try {
      await deliversThrough(child, "first");
      const killed = child.pid() as number;
      process.kill(killed, "SIGKILL");
      await expect.poll(() => child.pid() !== undefined && child.pid() !== killed, { timeout: 5_000 }).toBe(true);
      await child.ready();
      await deliversThrough(child, "after the restart");
      // Ctrl-C or a service manager signals the whole group: the node waits for the app to stop it.
      const restarted = child.pid() as number;
      process.kill(restarted, "SIGTERM");
      process.kill(restarted, "SIGINT");
      await deliversThrough(child, "after a stray SIGTERM");
      expect(child.pid()).toBe(restarted);
    } finally {
      const pid = child.pid() as number;
      await child.stop();
      expect(alive(pid)).toBe(false);
    }
    // The port is free again.
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(child.port, "127.0.0.1", resolve));
    server.close();
  });

  it("ends with the app, even when the app is killed outright", async () => {
    const port = await freePort();
    const app = spawn(process.execPath, ["--import", "tsx", path.join(root, "server/testing/soketi-child-parent.ts")], {
      cwd: root,
      env: childEnv(port),
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const soketiPid = await new Promise<number>((resolve, reject) => {
        let out = "";
        app.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const found = /soketi-pid=(\d+)/.exec(out);
          if (found) resolve(Number(found[1]));
        });
        app.once("exit", (code) => reject(new Error(`the stand-in app exited (${code}) before its Soketi was ready`)));
      });
      expect(alive(soketiPid)).toBe(true);
      app.kill("SIGKILL");
      await expect.poll(() => alive(soketiPid), { timeout: 10_000 }).toBe(false);
    } finally {
      app.kill("SIGKILL");
    }
  });

  it("fails the start with the node's own words when its port is taken", async () => {
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      await expect(start(port)).rejects.toThrow(/exited \(code 1\) before it was ready:[\s\S]*port in use/);
    } finally {
      squatter.close();
    }
  });
});
