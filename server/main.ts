// The Chorus server: ONE process holds the database handle, the background
// workers, the embedded Soketi (unless PUSHER_HOST names one; on a Node other
// than 20 it is a child process on a Node 20 of its own), Next.js for pages and
// next-auth, and the lean node:http path for the API.
// `npm start` runs the bundled build of this file (scripts/start.mjs);
// `npm run dev` runs it through tsx with Next's dev server.
import path from "node:path";

const started = performance.now();
const dev = process.argv.includes("--dev");
(process.env as Record<string, string>).NODE_ENV = dev ? "development" : "production";
// Self-hosted behind any proxy: trust the Host header unless NEXTAUTH_URL is set.
process.env.AUTH_TRUST_HOST ??= "true";
// Soketi pulls in aws-sdk v2, which prints a maintenance notice at load.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";

function fail(message: string): never {
  console.error(`\nChorus cannot start: ${message}\n`);
  process.exit(1);
}

const { soketiRuntime } = await import("./realtime/node-support");
const soketiHere = soketiRuntime({ node: process.versions.node, platform: process.platform, arch: process.arch });
if (soketiHere.kind === "unsupported" && !process.env.PUSHER_HOST) fail(soketiHere.problem);

let env: typeof import("./env.js").env;
try {
  ({ env } = await import("./env.js"));
} catch (error) {
  fail((error as Error).message);
}

const { logger } = await import("./logger");
const { authSecret, pusherSecret } = await import("./config/secrets");
const { createPublisher } = await import("./realtime/publisher");
const { realtimeServerConfig } = await import("./realtime/config");
const { startServerRuntime } = await import("./runtime");
const { createChorusServer } = await import("./node-http/server");
const { apiSecurityHeaders, servedOverHttps } = await import("./security/headers");

const root = process.env.CHORUS_ROOT ?? path.resolve(import.meta.dirname, dev ? ".." : "../..");

// `sink`: the Soketi node in this process, which the publisher hands events to directly.
let soketi: { stop: () => Promise<void>; sink?: import("./realtime/soketi").SoketiNodeSink } | undefined;
if (!env.PUSHER_HOST && soketiHere.kind === "in-process") {
  const { SoketiUnavailableError } = await import("./realtime/soketi");
  const { startSoketiNode } = await import("./realtime/soketi-node");
  try {
    soketi = await startSoketiNode(env, pusherSecret());
  } catch (error) {
    if (error instanceof SoketiUnavailableError) fail(error.message);
    fail(`the embedded Soketi did not start on port ${env.SOKETI_PORT}: ${(error as Error).message}`);
  }
} else if (!env.PUSHER_HOST) {
  // Soketi's uWebSockets.js loads on Node 20 only: the `npm run soketi` node runs on a pinned Node 20.
  const { installSoketiNode, SOKETI_NODE, soketiNodeBinary } = await import("./realtime/node-support");
  const { existsSync } = await import("node:fs");
  const { startSoketiChild } = await import("./realtime/soketi-child");
  let node: string;
  try {
    if (!existsSync(soketiNodeBinary(root)))
      console.log(`Installing Node ${SOKETI_NODE.version} for the embedded Soketi (once)...`);
    node = installSoketiNode(root);
  } catch (error) {
    fail(
      `the embedded Soketi runs on Node ${SOKETI_NODE.version}, which could not be installed: ${(error as Error).message}. ` +
        "Run Chorus with Node 20, or set PUSHER_HOST, PUSHER_PORT and PUSHER_SECRET to use a Soketi of your own.",
    );
  }
  try {
    soketi = await startSoketiChild({
      node,
      // The bundle scripts/start.mjs builds beside this one; in dev the source through tsx.
      args: dev
        ? ["--import", "tsx", path.join(root, "scripts", "soketi.ts")]
        : [path.join(import.meta.dirname, "soketi.mjs")],
      cwd: root,
      // The secret is passed, not read again from DATA_DIR: both sides must sign with the same one.
      env: {
        ...process.env,
        SOKETI_PORT: String(env.SOKETI_PORT),
        PORT: String(env.PORT),
        PUSHER_SECRET: pusherSecret(),
      },
      port: env.SOKETI_PORT,
    });
  } catch (error) {
    fail(
      `the embedded Soketi (Node ${SOKETI_NODE.version}) did not start on port ${env.SOKETI_PORT}: ${(error as Error).message}`,
    );
  }
}

const realtime = realtimeServerConfig();
const publisher = createPublisher(realtime, { node: soketi?.sink });
const runtime = await startServerRuntime(publisher);

const { default: next } = await import("next");
const app = next({ dev, dir: root, port: env.PORT });
await app.prepare();

const server = createChorusServer({
  db: runtime.db,
  publisher,
  authSecret: authSecret(),
  webhook: { key: realtime.key, secret: realtime.secret },
  headers: (req) => apiSecurityHeaders({ https: servedOverHttps(req.headers["x-forwarded-proto"]) }),
  next: app.getRequestHandler(),
  upgrade: dev ? app.getUpgradeHandler() : undefined,
});
await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen(env.PORT, () => resolve());
});
logger.info(
  {
    port: env.PORT,
    dev,
    readyMs: Math.round(performance.now() - started),
    rssMb: Math.round(process.memoryUsage.rss() / 1e6),
  },
  "chorus ready",
);
console.log(`Chorus is ready on http://localhost:${env.PORT}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  const force = setTimeout(() => {
    logger.error("shutdown took longer than 10 s; exiting");
    process.exit(1);
  }, 10_000);
  force.unref();
  // Stop accepting, let requests in flight finish, then the workers, Soketi and the database.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await runtime.stop();
  await app.close().catch((error: unknown) => logger.error({ err: error }, "next failed to close"));
  await soketi?.stop();
  logger.info("shutdown complete");
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
