// `npm run soketi`: one Soketi node from Chorus's env (SOKETI_PORT, PUSHER_APP_ID/KEY/SECRET;
// SOKETI_ADAPTER_DRIVER=redis with SOKETI_REDIS_URL joins a cluster), its presence webhooks
// sent to SOKETI_WEBHOOK_URL (default the app on PORT here), discovery on loopback.
import { pusherSecret } from "../server/config/secrets";
import { env } from "../server/env.js";
import { logger } from "../server/logger";
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
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
