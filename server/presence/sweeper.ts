import { startBackgroundLoop } from "../background-loop";
import type { Db } from "@/db/types";
import { logger } from "../logger";
import type { Publisher } from "../realtime/publisher";
import { sweepExpired } from "./transitions";

const log = logger.child({ domain: "presence" });

/**
 * Background worker: every few seconds, users whose heartbeat expired go
 * offline and their peers are told. A full batch is followed at once by the
 * next one, so a mass disconnect drains quickly.
 */
export function startPresenceSweeper(db: Db, publisher: Publisher, options: { intervalMs?: number } = {}) {
  const intervalMs = options.intervalMs ?? 10_000;
  const batch = 500;
  return startBackgroundLoop(intervalMs, async (stopped) => {
    try {
      for (;;) {
        const { swept } = await sweepExpired(db, { limit: batch, publisher });
        if (swept > 0) log.info({ swept }, "expired presence swept");
        if (swept < batch || stopped()) break;
      }
    } catch (error) {
      log.error({ err: error }, "presence sweep failed");
    }
  });
}
