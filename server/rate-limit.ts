import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { env } from "./env";
import { AppError } from "./errors";
import { logger } from "./logger";

export type LimiterOptions = {
  /** Names the limit in Redis keys ("signin:user"). */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
};

const globalForRedis = globalThis as unknown as { chorusRedis?: Redis };

/** The one Redis client every limiter of this process shares, created on first use; null without REDIS_URL. */
export function sharedRedis(): Redis | null {
  if (!env.REDIS_URL) return null;
  globalForRedis.chorusRedis ??= connectRedis(env.REDIS_URL);
  return globalForRedis.chorusRedis;
}

export function connectRedis(url: string): Redis {
  // No offline queue: while Redis is away, a limit answers from memory at once
  // instead of holding every sign-in until Redis returns.
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  client.on("error", (err) => logger.warn({ domain: "rate-limit", err: err.message }, "redis unavailable"));
  return client;
}

/**
 * A limiter in Redis when one is configured (so every app instance shares the
 * count), in process memory otherwise. A Redis outage falls back to a memory
 * limiter of the same shape: limits stay per instance instead of locking everyone out.
 */
export function createLimiter(options: LimiterOptions, redis: Redis | null = sharedRedis()): RateLimiterAbstract {
  const shape = {
    keyPrefix: `chorus:${options.keyPrefix}`,
    points: options.points,
    duration: options.durationSeconds,
  };
  if (!redis) return new RateLimiterMemory(shape);
  return new RateLimiterRedis({
    ...shape,
    storeClient: redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(shape),
  });
}

/** Seconds until a refused key may try again (at least 1). */
export function retryAfterSeconds(refusal: RateLimiterRes): number {
  return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
}

/** Spends points and tells where the key stands; a refusal is an answer too, not an error. */
export async function spend(limiter: RateLimiterAbstract, key: string, points = 1): Promise<RateLimiterRes> {
  try {
    return await limiter.consume(key, points);
  } catch (error) {
    if (error instanceof RateLimiterRes) return error;
    throw error;
  }
}

const globalForMutations = globalThis as unknown as { chorusMutationLimiter?: RateLimiterAbstract };

/** Every mutation of a signed-in user, all procedures together: generous, it stops scripts, not people. */
export async function spendMutation(userId: string): Promise<void> {
  globalForMutations.chorusMutationLimiter ??= createLimiter({
    keyPrefix: "mutations:user",
    points: env.MUTATION_RATE_LIMIT,
    durationSeconds: 60,
  });
  const state = await spend(globalForMutations.chorusMutationLimiter, userId);
  if (state.consumedPoints > env.MUTATION_RATE_LIMIT) {
    throw new AppError("TOO_MANY_REQUESTS", `Too many changes at once; try again in ${retryAfterSeconds(state)} s`);
  }
}

/**
 * Connects the shared Redis before the first request (a limiter whose client is
 * not ready yet counts in memory, per instance); gives up waiting after `timeoutMs`.
 */
export async function redisReady(timeoutMs = 5_000): Promise<void> {
  const redis = sharedRedis();
  if (!redis || redis.status === "ready") return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    };
    const timer = setTimeout(() => {
      logger.warn(
        { domain: "rate-limit", timeoutMs },
        "redis not ready at start; limits count per instance until it is",
      );
      done();
    }, timeoutMs);
    redis.once("ready", done);
  });
}

/** Closes the shared Redis client, if one was opened. */
export async function closeSharedRedis(): Promise<void> {
  const redis = globalForRedis.chorusRedis;
  globalForRedis.chorusRedis = undefined;
  if (redis) await redis.quit().catch(() => redis.disconnect());
}
