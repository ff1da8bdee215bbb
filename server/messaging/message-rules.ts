import type { Redis } from "ioredis";
import { RateLimiterRes } from "rate-limiter-flexible";
import { MAX_BODY_CHARS } from "@/lib/limits";
import { checkText } from "@/lib/text";
import { AppError } from "../errors";
import { env } from "../env";
import { createLimiter, sharedRedis } from "../rate-limit";

export { MAX_BODY_CHARS };

/**
 * A body as it will be stored: the shared text rule (trimmed, 1-4000 code
 * points, no lone surrogates, controls other than tab and newlines, or
 * text-direction overrides). Stored verbatim otherwise: rendering escapes it,
 * so HTML is just text.
 */
export function normalizeBody(raw: string, options: { allowEmpty?: boolean } = {}): string {
  const checked = checkText(raw, {
    field: "Message",
    max: MAX_BODY_CHARS,
    multiline: true,
    allowEmpty: options.allowEmpty,
  });
  if (checked.ok) return checked.value;
  if (checked.problem === "too_long") {
    throw new AppError("PAYLOAD_TOO_LARGE", `Message is too long (at most ${MAX_BODY_CHARS} characters)`);
  }
  throw new AppError("BAD_REQUEST", checked.message);
}

export type BlockedWords = { words: string[]; mode: "reject" | "mask" };

let blockedFromEnv: BlockedWords | undefined;

/** BLOCKED_WORDS as a list, read once: the env does not change while the process runs. */
export function blockedWordsFromEnv(): BlockedWords {
  blockedFromEnv ??= {
    words: env.BLOCKED_WORDS.split(",")
      .map((w) => w.trim().toLowerCase())
      .filter((w) => w.length > 0),
    mode: env.BLOCKED_WORDS_MODE,
  };
  return blockedFromEnv;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whole-word, case-insensitive: "class" does not trip on "ass". Rejects or masks with ***. */
export function applyBlockedWords(body: string, rules: BlockedWords): string {
  if (rules.words.length === 0) return body;
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}_])(?:${rules.words.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}_])`,
    "giu",
  );
  if (!pattern.test(body)) return body;
  if (rules.mode === "reject") {
    throw new AppError("BAD_REQUEST", "Message contains a blocked word (blocked-words rule)");
  }
  pattern.lastIndex = 0;
  return body.replace(pattern, "***");
}

export type SendRateLimiter = { consume: (userId: string) => Promise<void> };

/** In Redis when given one (every app instance shares the count), else in this process's memory. */
export function createSendRateLimiter(
  options: { points: number; durationSeconds: number },
  redis: Redis | null = null,
): SendRateLimiter {
  const limiter = createLimiter({ keyPrefix: "send", ...options }, redis);
  return {
    async consume(userId) {
      try {
        await limiter.consume(userId);
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
          throw new AppError("TOO_MANY_REQUESTS", `You are sending messages too fast; try again in ${seconds} s`);
        }
        throw error;
      }
    },
  };
}

const globalForLimiter = globalThis as unknown as { chorusSendLimiter?: SendRateLimiter };

/** Shared by every app instance through REDIS_URL; per process without it. */
export function getSendRateLimiter(): SendRateLimiter {
  globalForLimiter.chorusSendLimiter ??= createSendRateLimiter(
    { points: env.MESSAGE_RATE_LIMIT, durationSeconds: env.MESSAGE_RATE_WINDOW_SECONDS },
    sharedRedis(),
  );
  return globalForLimiter.chorusSendLimiter;
}
