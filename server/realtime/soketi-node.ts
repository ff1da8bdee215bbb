import type { env as Env } from "../env.js";
import { type EmbeddedSoketi, startEmbeddedSoketi } from "./soketi";
import { soketiWebhooks } from "./webhooks";

type SoketiEnv = Pick<
  typeof Env,
  | "SOKETI_HOST"
  | "SOKETI_PORT"
  | "PUSHER_APP_ID"
  | "PUSHER_KEY"
  | "SOKETI_ADAPTER_DRIVER"
  | "SOKETI_REDIS_URL"
  | "REDIS_URL"
  | "SOKETI_WEBHOOK_URL"
  | "PORT"
>;

/** The Redis a Soketi node clusters on, or undefined for a lone node; throws when redis is asked for without a URL. */
export function soketiClusterRedis(env: SoketiEnv): string | undefined {
  if (env.SOKETI_ADAPTER_DRIVER !== "redis") return undefined;
  const url = env.SOKETI_REDIS_URL ?? env.REDIS_URL;
  if (!url) throw new Error("SOKETI_ADAPTER_DRIVER=redis needs SOKETI_REDIS_URL (or REDIS_URL)");
  return url;
}

/**
 * One Soketi node configured from Chorus's env: the embedded one `npm start`
 * runs and the stand-alone one `npm run soketi` runs are the same node.
 */
export function startSoketiNode(env: SoketiEnv, secret: string): Promise<EmbeddedSoketi> {
  const appUrl = env.SOKETI_WEBHOOK_URL ?? `http://127.0.0.1:${env.PORT}`;
  return startEmbeddedSoketi({
    host: env.SOKETI_HOST,
    port: env.SOKETI_PORT,
    appId: env.PUSHER_APP_ID,
    key: env.PUSHER_KEY,
    secret,
    webhooks: soketiWebhooks(appUrl.replace(/\/+$/, "")),
    redisUrl: soketiClusterRedis(env),
  });
}
