// Every setting Chorus reads, validated once. Imported by next.config.mjs so a
// bad value fails the build and the start, naming the variable.
import { createEnv } from "@t3-oss/env-nextjs";
import { z } from "zod";

const port = z.coerce.number().int().min(1).max(65535);
const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");
const postgresUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL");

export const env = createEnv({
  server: {
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    PORT: port.default(3000),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    DATA_DIR: z.string().min(1).default("./data"),
    DATABASE_URL: postgresUrl.optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    PGLITE_DIR: z.string().min(1).default("./data/pglite"),
    AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    // The public URL; https here makes session cookies Secure and pages send HSTS.
    NEXTAUTH_URL: z.string().url().optional(),
    PUSHER_APP_ID: z.string().min(1).default("chorus"),
    PUSHER_KEY: z.string().min(1).default("chorus-key"),
    PUSHER_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
    PUSHER_HOST: z.string().min(1).optional(),
    PUSHER_PORT: port.optional(),
    PUSHER_USE_TLS: bool,
    PUSHER_PUBLIC_HOST: z.string().min(1).optional(),
    PUSHER_PUBLIC_PORT: port.optional(),
    PUSHER_PUBLIC_TLS: bool,
    SOKETI_PORT: port.default(6001),
    SOKETI_HOST: z.string().min(1).default("127.0.0.1"),
    // A Soketi node started by Chorus (embedded, or `npm run soketi`) joins a cluster on Redis with
    // SOKETI_ADAPTER_DRIVER=redis (SOKETI_REDIS_URL, else REDIS_URL).
    SOKETI_ADAPTER_DRIVER: z.enum(["local", "redis"]).default("local"),
    SOKETI_REDIS_URL: z
      .string()
      .url()
      .refine((v) => /^rediss?:\/\//.test(v), "must be a redis:// or rediss:// URL")
      .optional(),
    // Where `npm run soketi` sends its presence webhooks (default: the app on PORT on this machine).
    SOKETI_WEBHOOK_URL: z.string().url().optional(),
    SNOWFLAKE_WORKER_ID: z.coerce.number().int().min(0).max(1023).default(0),
    // Largest group, owner included; adds beyond it are refused with a clear error.
    GROUP_MEMBER_LIMIT: z.coerce.number().int().min(2).max(100000).default(10000),
    // Receipts: groups up to this size list who read; larger ones get cached counts only.
    RECEIPTS_DETAIL_MAX_MEMBERS: z.coerce.number().int().min(1).max(10000).default(100),
    RECEIPTS_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    // receipts.changed is coalesced per conversation within this window.
    RECEIPTS_EVENT_DEBOUNCE_MS: z.coerce.number().int().min(0).max(60000).default(1000),
    PRESENCE_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(90),
    PRESENCE_IDLE_SECONDS: z.coerce.number().int().min(30).max(86400).default(300),
    PRESENCE_FANOUT_MAX_MEMBERS: z.coerce.number().int().min(2).max(10000).default(100),
    TYPING_MAX_MEMBERS: z.coerce.number().int().min(2).max(10000).default(100),
    // @all in groups larger than this is for owners and admins only.
    MENTION_ALL_MAX_MEMBERS: z.coerce.number().int().min(2).max(100000).default(100),
    MESSAGE_RATE_LIMIT: z.coerce.number().int().min(1).default(20),
    MESSAGE_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(10),
    // Shared rate limits for every app instance; without it each instance counts in memory.
    REDIS_URL: z
      .string()
      .url()
      .refine((v) => /^rediss?:\/\//.test(v), "must be a redis:// or rediss:// URL")
      .optional(),
    // Sign-in: failed attempts per username (and per client address) within the window, then a lockout.
    SIGNIN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
    SIGNIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(100),
    SIGNIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
    SIGNIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).default(900),
    // Sign-ups per client address per window.
    SIGNUP_RATE_LIMIT: z.coerce.number().int().min(1).default(10),
    SIGNUP_WINDOW_SECONDS: z.coerce.number().int().min(1).default(3600),
    // Mutations per signed-in user per minute, all procedures together.
    MUTATION_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
    BLOCKED_WORDS: z.string().default(""),
    BLOCKED_WORDS_MODE: z.enum(["reject", "mask"]).default("reject"),
    // Who may create an account: anyone (open), holders of an admin's invite (invite), nobody (closed).
    // The users named in ADMIN_USERNAMES may always register, so a new install gets its first admin.
    SIGNUP_MODE: z.enum(["open", "invite", "closed"]).default("open"),
    // Comma-separated usernames that are site admins whatever the database says.
    ADMIN_USERNAMES: z.string().default(""),
    // Single sign-on through an OpenID Connect provider, on when all three are set.
    OIDC_ISSUER: z.string().url().optional(),
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    // The provider's name on the sign-in button ("Sign in with …").
    OIDC_NAME: z.string().min(1).max(40).default("single sign-on"),
    // Messages older than this many days are deleted (unset: kept for ever); owners may override per conversation.
    RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).optional(),
    OUTBOX_POLL_MS: z.coerce.number().int().min(50).default(1000),
    OUTBOX_RETENTION_HOURS: z.coerce.number().min(0).default(24),
    // Web Push (VAPID, RFC 8292): generated into DATA_DIR on the embedded default, required with DATABASE_URL.
    VAPID_PUBLIC_KEY: z
      .string()
      .regex(/^[A-Za-z0-9_-]{86,88}$/, "must be a base64url P-256 public key (npx web-push generate-vapid-keys)")
      .optional(),
    VAPID_PRIVATE_KEY: z
      .string()
      .regex(/^[A-Za-z0-9_-]{42,44}$/, "must be a base64url P-256 private key (npx web-push generate-vapid-keys)")
      .optional(),
    VAPID_SUBJECT: z
      .string()
      .regex(/^(mailto:.+@.+|https:\/\/.+)$/, "must be a mailto: address or an https:// URL")
      .optional(),
    // host:port list whose push endpoints may be plain http or private addresses: tests only, never production.
    WEB_PUSH_ALLOW_HOSTS: z
      .string()
      .default("")
      .refine(
        (v) =>
          v
            .split(",")
            .every((h) => h.trim() === "" || /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(h.trim())),
        "must be a comma-separated list of host:port",
      ),
    // Pushes per user per minute, all devices and conversations together; beyond it they are dropped.
    PUSH_RATE_LIMIT: z.coerce.number().int().min(1).default(30),
    PUSH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(5000),
    PUSH_POLL_MS: z.coerce.number().int().min(50).default(1000),
    // Largest upload, counted while it streams in (default 25 MB).
    UPLOAD_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(25 * 1024 * 1024),
    // S3-compatible storage for uploads when all four are set; else files live under DATA_DIR/files.
    S3_BUCKET: z.string().min(1).optional(),
    S3_ENDPOINT: z.string().url().optional(),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_REGION: z.string().min(1).default("us-east-1"),
    LINK_PREVIEWS: z.enum(["on", "off"]).default("on"),
    // host:port pairs the preview fetcher may reach although they are private (tests only).
    LINK_PREVIEW_ALLOW_HOSTS: z.string().default(""),
  },
  client: {},
  experimental__runtimeEnv: {},
  emptyStringAsUndefined: true,
  skipValidation: process.env.SKIP_ENV_VALIDATION === "1",
  onValidationError: (issues) => {
    const lines = issues.map(
      (i) => `  ${i.path?.map((p) => (typeof p === "object" ? p.key : p)).join(".")}: ${i.message}`,
    );
    console.error(`Invalid environment variables:\n${lines.join("\n")}`);
    throw new Error(`Invalid environment variables: ${lines.join("; ").trim()}`);
  },
});
