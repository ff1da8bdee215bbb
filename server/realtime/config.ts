import { env } from "../env";
import { pusherSecret } from "../config/secrets";

export type RealtimeServerConfig = {
  appId: string;
  key: string;
  secret: string;
  host: string;
  port: number;
  useTLS: boolean;
};

/** Where the app server publishes: an external Soketi, or the embedded one. */
export function realtimeServerConfig(): RealtimeServerConfig {
  return {
    appId: env.PUSHER_APP_ID,
    key: env.PUSHER_KEY,
    secret: pusherSecret(),
    host: env.PUSHER_HOST ?? "127.0.0.1",
    port: env.PUSHER_PORT ?? env.SOKETI_PORT,
    useTLS: env.PUSHER_USE_TLS,
  };
}

/** What the browser needs, served at request time so one build serves every deployment. */
export type RealtimeClientConfig = {
  key: string;
  /** null: the host the page was loaded from. */
  host: string | null;
  port: number;
  useTLS: boolean;
};

export function realtimeClientConfig(): RealtimeClientConfig {
  return {
    key: env.PUSHER_KEY,
    host: env.PUSHER_PUBLIC_HOST ?? null,
    port: env.PUSHER_PUBLIC_PORT ?? env.PUSHER_PORT ?? env.SOKETI_PORT,
    useTLS: env.PUSHER_PUBLIC_TLS,
  };
}
