import { env } from "../env";

// 41 bits of milliseconds since 2025-01-01, 10 bits of worker id, 12 bits of sequence.
const EPOCH = 1_735_689_600_000n;
const WORKER_BITS = 10n;
const SEQUENCE_BITS = 12n;
const MAX_SEQUENCE = (1n << SEQUENCE_BITS) - 1n;

export function createSnowflake(workerId: number) {
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > 1023) {
    throw new Error(`Snowflake worker id must be 0-1023, got ${workerId}`);
  }
  const worker = BigInt(workerId);
  let lastMs = -1n;
  let sequence = 0n;
  return function nextId(): bigint {
    let now = BigInt(Date.now());
    // A clock that steps back must not produce an id smaller than one already issued.
    if (now < lastMs) now = lastMs;
    if (now === lastMs) {
      sequence = (sequence + 1n) & MAX_SEQUENCE;
      if (sequence === 0n) {
        now = lastMs + 1n;
        while (BigInt(Date.now()) < now) {
          // at most one millisecond after 4096 ids in the same millisecond
        }
      }
    } else {
      sequence = 0n;
    }
    lastMs = now;
    return ((now - EPOCH) << (WORKER_BITS + SEQUENCE_BITS)) | (worker << SEQUENCE_BITS) | sequence;
  };
}

const globalForIds = globalThis as unknown as { chorusNextId?: () => bigint };

/** Message ids for this process (SNOWFLAKE_WORKER_ID distinguishes app instances). */
export function nextMessageId(): bigint {
  globalForIds.chorusNextId ??= createSnowflake(env.SNOWFLAKE_WORKER_ID);
  return globalForIds.chorusNextId();
}
