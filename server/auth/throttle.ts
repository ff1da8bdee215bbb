import type { Redis } from "ioredis";
import type { RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import type { DbOrTx } from "@/db/types";
import { env } from "../env";
import { AppError } from "../errors";
import { createLimiter, retryAfterSeconds, spend } from "../rate-limit";
import { type SignInUser, verifyCredentials } from "./accounts";

export type ThrottleLimits = {
  failuresPerUsername: number;
  failuresPerAddress: number;
  windowSeconds: number;
  lockoutSeconds: number;
  signUpsPerAddress: number;
  signUpWindowSeconds: number;
};

export function throttleLimitsFromEnv(): ThrottleLimits {
  return {
    failuresPerUsername: env.SIGNIN_MAX_FAILURES,
    failuresPerAddress: env.SIGNIN_MAX_FAILURES_PER_IP,
    windowSeconds: env.SIGNIN_WINDOW_SECONDS,
    lockoutSeconds: env.SIGNIN_LOCKOUT_SECONDS,
    signUpsPerAddress: env.SIGNUP_RATE_LIMIT,
    signUpWindowSeconds: env.SIGNUP_WINDOW_SECONDS,
  };
}

/** The answer a throttled sign-in or sign-up gets; next-auth passes the message to the form as `error`. */
export function tooManyAttempts(seconds: number): AppError {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return new AppError(
    "TOO_MANY_REQUESTS",
    `Too many attempts, try again in ${minutes} minute${minutes === 1 ? "" : "s"}`,
  );
}

const usernameKey = (username: string) => username.trim().toLowerCase();

export type AuthThrottle = {
  /** Checks the password unless the username or address is locked out; counts failures, a success resets the username. */
  signIn(db: DbOrTx, attempt: { username: string; password: string; ip?: string }): Promise<SignInUser | null>;
  /** Spends one sign-up of the address, or refuses with TOO_MANY_REQUESTS. */
  signUp(ip: string | undefined): Promise<void>;
};

/**
 * A successful sign-in gives its points back, so only failures add up and
 * people who type their password right are never slowed. An unknown address
 * (no proxy header) has no per-address limit: pooling them would let one
 * client lock out everyone behind it; the per-username limit still applies.
 */
export function createAuthThrottle(limits: ThrottleLimits, redis?: Redis | null, prefix = ""): AuthThrottle {
  const make = (keyPrefix: string, points: number, durationSeconds: number) =>
    createLimiter({ keyPrefix: `${prefix}${keyPrefix}`, points, durationSeconds }, redis);
  const byUsername = make("signin:user", limits.failuresPerUsername, limits.windowSeconds);
  const byAddress = make("signin:ip", limits.failuresPerAddress, limits.windowSeconds);
  const signUps = make("signup:ip", limits.signUpsPerAddress, limits.signUpWindowSeconds);

  // The attempt that spends the last point starts the lockout, whatever is left of the window.
  async function lockIfSpent(limiter: RateLimiterAbstract, key: string, state: RateLimiterRes): Promise<void> {
    if (state.remainingPoints <= 0) await limiter.block(key, limits.lockoutSeconds);
  }

  return {
    // Each attempt spends its point before the password is checked, so a burst
    // of parallel guesses cannot all slip past a check made before any failed.
    async signIn(db, { username, password, ip }) {
      const user = usernameKey(username);
      const [forUser, forAddress] = await Promise.all([spend(byUsername, user), ip ? spend(byAddress, ip) : null]);
      const refusals = [
        forUser.consumedPoints > limits.failuresPerUsername ? forUser : null,
        forAddress && forAddress.consumedPoints > limits.failuresPerAddress ? forAddress : null,
      ].filter((r) => r !== null);
      if (refusals.length > 0) throw tooManyAttempts(Math.max(...refusals.map(retryAfterSeconds)));
      const found = await verifyCredentials(db, username, password);
      if (found) {
        await Promise.all([byUsername.delete(user), ip ? byAddress.reward(ip, 1) : null]);
        return found;
      }
      await Promise.all([
        lockIfSpent(byUsername, user, forUser),
        ip && forAddress ? lockIfSpent(byAddress, ip, forAddress) : null,
      ]);
      return null;
    },
    async signUp(ip) {
      if (!ip) return;
      const state = await spend(signUps, ip);
      if (state.consumedPoints > limits.signUpsPerAddress) throw tooManyAttempts(retryAfterSeconds(state));
    },
  };
}

const globalForThrottle = globalThis as unknown as { chorusAuthThrottle?: AuthThrottle };

/** The process's throttle, in Redis when REDIS_URL is set. */
export function authThrottle(): AuthThrottle {
  globalForThrottle.chorusAuthThrottle ??= createAuthThrottle(throttleLimitsFromEnv());
  return globalForThrottle.chorusAuthThrottle;
}

/** The client address of a next-auth request: the first x-forwarded-for hop, else x-real-ip. */
export function requestAddress(headers: Headers | Record<string, unknown> | undefined): string | undefined {
  if (!headers) return undefined;
  const read = (name: string) => {
    const value = headers instanceof Headers ? headers.get(name) : headers[name];
    return typeof value === "string" ? value : Array.isArray(value) ? String(value[0]) : undefined;
  };
  return read("x-forwarded-for")?.split(",")[0]?.trim() || read("x-real-ip")?.trim() || undefined;
}
