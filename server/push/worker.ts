import { startBackgroundLoop } from "../background-loop";
import type { DbOrTx } from "@/db/types";
import { logger } from "../logger";
import { planPushes, type PushPlanDeps } from "./planner";

const log = logger.child({ domain: "push" });

/** Plans pushes for published messages until stopped; stop() waits for the pass in flight. */
export function startPushWorker(db: DbOrTx, deps: PushPlanDeps, options: { pollMs: number; batchSize?: number }) {
  const limit = options.batchSize ?? 100;
  const loop = startBackgroundLoop(options.pollMs, async (stopped) => {
    try {
      for (;;) {
        const result = await planPushes(db, deps, { limit });
        if (result.messages > 0) log.debug(result, "push pass");
        if (stopped() || result.messages < limit) break;
      }
    } catch (error) {
      log.error({ err: error }, "push pass failed");
    }
  });
  log.info({ pollMs: options.pollMs }, "push planner started");
  return loop;
}
