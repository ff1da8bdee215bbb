import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "../errors";
import { env } from "../env";

export const MAX_BODY_CHARS = 4000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Postgres text cannot hold NUL; other C0 controls except tab and newlines are never typed by people.
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/**
 * A body as it will be stored: trimmed, 1-4000 characters (code points, so an
 * emoji counts once), valid UTF-8. Stored verbatim otherwise: rendering
 * escapes it, so HTML is just text.
 */
export function normalizeBody(raw: string): string {
  if (LONE_SURROGATE.test(raw)) throw new AppError("BAD_REQUEST", "Message is not valid UTF-8 text");
  if (hasControlCharacter(raw)) throw new AppError("BAD_REQUEST", "Message contains control characters");
  const body = raw.trim();
  if (body.length === 0) throw new AppError("BAD_REQUEST", "Message cannot be empty");
  let chars = 0;
  for (const _ of body) {
    if (++chars > MAX_BODY_CHARS) {
      throw new AppError("PAYLOAD_TOO_LARGE", `Message is too long (at most ${MAX_BODY_CHARS} characters)`);
    }
  }
  return body;
}

export type BlockedWords = { words: string[]; mode: "reject" | "mask" };

export function blockedWordsFromEnv(): BlockedWords {
  const words = env.BLOCKED_WORDS.split(",")
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w.length > 0);
  return { words, mode: env.BLOCKED_WORDS_MODE };
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

export function createSendRateLimiter(options: { points: number; durationSeconds: number }): SendRateLimiter {
  const limiter = new RateLimiterMemory({ points: options.points, duration: options.durationSeconds });
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

/** Per process: with several app instances each allows the configured rate. */
export function getSendRateLimiter(): SendRateLimiter {
  globalForLimiter.chorusSendLimiter ??= createSendRateLimiter({
    points: env.MESSAGE_RATE_LIMIT,
    durationSeconds: env.MESSAGE_RATE_WINDOW_SECONDS,
  });
  return globalForLimiter.chorusSendLimiter;
}
