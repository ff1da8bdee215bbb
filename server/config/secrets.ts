import { randomBytes } from "node:crypto";
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
