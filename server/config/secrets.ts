import { randomBytes } from "node:crypto";
import webpush from "web-push";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { env } from "../env";

type LocalSecrets = { authSecret: string; pusherSecret: string };

let cached: LocalSecrets | undefined;

/**
 * Secrets for the embedded default, generated once and kept under DATA_DIR so
 * they survive restarts and are never a fixed string in the code.
 */
function localSecrets(): LocalSecrets {
  if (cached) return cached;
  const dir = path.resolve(env.DATA_DIR);
  const file = path.join(dir, "secrets.json");
  try {
    cached = JSON.parse(readFileSync(file, "utf8")) as LocalSecrets;
    if (cached.authSecret && cached.pusherSecret) return cached;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  cached = { authSecret: randomBytes(32).toString("base64url"), pusherSecret: randomBytes(24).toString("base64url") };
  mkdirSync(dir, { recursive: true });
  // wx: two processes racing on a fresh folder keep the first file written.
  try {
    writeFileSync(file, JSON.stringify(cached), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    cached = JSON.parse(readFileSync(file, "utf8")) as LocalSecrets;
  }
  return cached;
}

export function authSecret(): string {
  if (env.AUTH_SECRET) return env.AUTH_SECRET;
  if (env.DATABASE_URL) {
    throw new Error("AUTH_SECRET must be set when DATABASE_URL is set: every app instance must share it.");
  }
  return localSecrets().authSecret;
}

export function pusherSecret(): string {
  if (env.PUSHER_SECRET) return env.PUSHER_SECRET;
  if (env.PUSHER_HOST) {
    throw new Error("PUSHER_SECRET must be set when PUSHER_HOST points at an external Soketi.");
  }
  return localSecrets().pusherSecret;
}

export type VapidDetails = { publicKey: string; privateKey: string; subject: string };

let cachedVapid: VapidDetails | undefined;

/**
 * The VAPID key pair and contact that sign every push (RFC 8292). From env
 * when set (required with DATABASE_URL: every app instance must sign with the
 * same key browsers subscribed to), else generated once into DATA_DIR.
 */
export function vapidDetails(): VapidDetails {
  const { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey, VAPID_SUBJECT: subject } = env;
  if (publicKey && privateKey && subject) return { publicKey, privateKey, subject };
  if (env.DATABASE_URL || publicKey || privateKey) {
    throw new Error(
      "VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT must all be set when DATABASE_URL is set " +
        "(npx web-push generate-vapid-keys makes a pair; the subject is a mailto: or https: contact).",
    );
  }
  if (cachedVapid) return cachedVapid;
  const file = path.join(path.resolve(env.DATA_DIR), "vapid.json");
  const keys = generatedOnce(
    file,
    () => webpush.generateVAPIDKeys(),
    (k) => Boolean(k.publicKey && k.privateKey),
  );
  cachedVapid = { ...keys, subject: subject ?? "mailto:chorus@localhost" };
  return cachedVapid;
}

/** Reads a JSON secret file, or writes `make()` to it once (0600); racing processes keep the first file written. */
function generatedOnce<T>(file: string, make: () => T, valid: (value: T) => boolean): T {
  try {
    const existing = JSON.parse(readFileSync(file, "utf8")) as T;
    if (valid(existing)) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const value = make();
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, JSON.stringify(value), { mode: 0o600, flag: "wx" });
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return JSON.parse(readFileSync(file, "utf8")) as T;
  }
}
