// `npm run soketi`: one Soketi node from Chorus's env (SOKETI_PORT, PUSHER_APP_ID/KEY/SECRET;
// SOKETI_ADAPTER_DRIVER=redis with SOKETI_REDIS_URL joins a cluster), its presence webhooks
// sent to SOKETI_WEBHOOK_URL (default the app on PORT here), discovery on loopback.
// `npm start` on a Node other than 20 runs this same file (bundled) as its embedded
// Soketi, on a Node 20 of its own (server/realtime/soketi-child.ts): then it reports
// ready over IPC and stops when the app goes away.
import { pusherSecret } from "../server/config/secrets";
import { env } from "../server/env.js";
import { logger } from "../server/logger";
import { SOKETI_READY_MESSAGE, SOKETI_STOP_MESSAGE } from "../server/realtime/soketi-child";
import { startSoketiNode } from "../server/realtime/soketi-node";

// Soketi pulls in aws-sdk v2 when it starts, which prints a maintenance notice.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";

let node: Awaited<ReturnType<typeof startSoketiNode>>;
try {
  node = await startSoketiNode(env, pusherSecret());
} catch (error) {
  console.error(`\nSoketi cannot start: ${(error as Error).message}\n`);
  process.exit(1);
}
console.log(`Soketi is ready on ${env.SOKETI_HOST}:${node.port}`);
process.send?.({ type: SOKETI_READY_MESSAGE, port: node.port });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, port: node.port }, "soketi shutting down");
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await node.stop();
  process.exit(0);
}
if (process.send) {
  // Started by the app: the app decides when it stops, after its own requests and workers.
  // Ctrl-C and a service manager signal the whole process group; this node waits for the app's word.
  const leftToTheApp = (signal: string) =>
    logger.info({ signal, port: node.port }, "soketi waits for the app to stop it");
  process.on("SIGTERM", leftToTheApp);
  process.on("SIGINT", leftToTheApp);
  process.on("message", (message: { type?: string }) => {
    if (message?.type === SOKETI_STOP_MESSAGE) void shutdown("stop asked by the app");
  });
  // The app exited, even by SIGKILL: its IPC channel closes.
  process.once("disconnect", () => void shutdown("the app exited"));
} else {
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
