// `npm run smoke`: starts Chorus as a newcomer would (`npm start`, nothing set but
// ports and a fresh DATA_DIR), on the Node running this script, and checks it
// works end to end: health, two sign-ups and sign-ins, a DM, a message from bob
// that reaches alice's pusher-js client live, then SIGTERM and a clean exit with
// the embedded Soketi gone too. CI runs it on Node 20, 22 and 24 (.ci/run).
// SMOKE_PORT / SMOKE_SOKETI_PORT pick the ports (default: free ones).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import Pusher from "pusher-js";
import { Api } from "../cluster/clients";
import { authOptions, httpBatchAuthorizer, httpUserAuthenticator } from "../lib/realtime-client";
import { conversationChannel } from "../server/realtime/channels";
import type { WireMessage } from "../server/realtime/events";

const root = path.resolve(import.meta.dirname, "..");
const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
const step = (what: string) => console.log(`[smoke ${seconds()} s] ${what}`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Whether any process of this process group is still running. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for `check` to hold, every 250 ms, at most `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** next-auth's credentials flow over HTTP; returns the session's Cookie header. */
async function signIn(baseUrl: string, username: string, password: string): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const csrf = await fetch(`${baseUrl}/api/auth/csrf`);
  keep(csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie() },
    body: new URLSearchParams({ csrfToken, username, password, json: "true" }),
  });
  keep(response);
  if (![...jar.keys()].some((k) => k.includes("session-token"))) {
    throw new Error(`sign-in of ${username} failed with HTTP ${response.status}`);
  }
  return cookie();
}

const port = Number(process.env.SMOKE_PORT) || (await freePort());
const soketiPort = Number(process.env.SMOKE_SOKETI_PORT) || (await freePort());
const dataDir = mkdtempSync(path.join(tmpdir(), "chorus-smoke-"));
const baseUrl = `http://127.0.0.1:${port}`;
let server: ChildProcess | undefined;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
let alice: Pusher | undefined;

try {
  step(`npm start on Node ${process.versions.node}, port ${port}, Soketi port ${soketiPort}, DATA_DIR ${dataDir}`);
  // `npm` from PATH, with this script's Node first so `npm start` runs on it.
  server = spawn("npm", ["start"], {
    cwd: root,
    env: {
      ...process.env,
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
      PORT: String(port),
      SOKETI_PORT: String(soketiPort),
      DATA_DIR: dataDir,
      PGLITE_DIR: path.join(dataDir, "pglite"),
    },
    stdio: ["ignore", "pipe", "inherit"],
    // Its own process group, so a failed run can end every process it started.
    detached: true,
  });
  const child = server;
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    log = (log + chunk.toString()).slice(-20_000);
  });
  exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  // The first start builds Next (minutes on two cores).
  await until("GET /api/health answers 200", 480_000, async () => {
    if (gone) throw new Error("npm start exited before it was healthy");
    const response = await fetch(`${baseUrl}/api/health`).catch(() => undefined);
    return response?.status === 200;
  });
  step("healthy");

  const password = "smoke-password-123";
  const suffix = Date.now().toString(36);
  const anonymous = new Api(baseUrl, "");
  const people: Record<"alice" | "bob", { id: string; api: Api }> = {} as never;
  for (const name of ["alice", "bob"] as const) {
    const user = await anonymous.must<{ id: string }>("mutation", "auth.register", {
      username: `${name}_${suffix}`,
      displayName: name,
      password,
    });
    people[name] = { id: user.id, api: new Api(baseUrl, await signIn(baseUrl, `${name}_${suffix}`, password)) };
  }
  step("alice and bob signed up and signed in");

  const { conversationId } = await people.bob.api.must<{ conversationId: string }>("mutation", "conversation.openDm", {
    userId: people.alice.id,
  });
  step(`bob opened a DM with alice (${conversationId})`);

  const headers = () => ({ cookie: people.alice.api.cookie });
  const pusher = new Pusher(process.env.PUSHER_KEY || "chorus-key", {
    cluster: "",
    wsHost: "127.0.0.1",
    wsPort: soketiPort,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    ...authOptions(
      httpBatchAuthorizer(`${baseUrl}/api/pusher/auth`, headers),
      httpUserAuthenticator(`${baseUrl}/api/pusher/user-auth`, headers),
    ),
  });
  alice = pusher;
  pusher.signin();
  const channel = pusher.subscribe(conversationChannel(conversationId));
  await withTimeout(
    "alice subscribes to the DM's channel",
    15_000,
    new Promise<void>((resolve, reject) => {
      channel.bind("pusher:subscription_succeeded", () => resolve());
      channel.bind("pusher:subscription_error", (error: unknown) =>
        reject(new Error(`subscription refused: ${JSON.stringify(error)}`)),
      );
    }),
  );
  step("alice's pusher-js client is subscribed to the DM");

  const body = `hello from bob on Node ${process.versions.node}`;
  const arrived = new Promise<WireMessage>((resolve) => channel.bind("message.new", resolve));
  await people.bob.api.must("mutation", "message.send", { conversationId, clientMsgId: `smoke-${suffix}`, body });
  const message = await withTimeout("bob's message reaches alice live", 10_000, arrived);
  if (message.body !== body || message.senderId !== people.bob.id) {
    throw new Error(`alice received ${JSON.stringify(message)}, not bob's message`);
  }
  step("bob's message reached alice live");
  pusher.disconnect();
  alice = undefined;

  // As Ctrl-C or a service manager does: the whole group (npm, the app, its Soketi).
  process.kill(-(child.pid as number), "SIGTERM");
  const { code, signal } = await withTimeout("npm start exits after SIGTERM", 20_000, exited);
  // npm itself ends by the signal it was sent (or 0); the app must have shut down in order.
  if (code !== 0 && signal !== "SIGTERM") throw new Error(`npm start exited with ${signal ?? `code ${code}`}`);
  await until("every process npm start ran has exited", 15_000, () => !groupAlive(child.pid as number));
  if (!log.includes('"msg":"shutdown complete"')) throw new Error("the app did not log a complete shutdown");
  if (!(await portIsFree(port)) || !(await portIsFree(soketiPort))) throw new Error("a port is still taken after exit");
  step("SIGTERM: the app shut down cleanly, no process left, both ports free");
  console.log(`smoke passed on Node ${process.versions.node} in ${seconds()} s`);
} catch (error) {
  console.error(`\nsmoke FAILED on Node ${process.versions.node} after ${seconds()} s: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  alice?.disconnect();
  // Whatever is left of the process group (nothing, when it passed).
  if (server?.pid) {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}
