import { logger } from "./logger";

const log = logger.child({ domain: "background" });

/** A background worker's handle: stop() waits for the pass in flight. */
export type BackgroundLoop = { stop: () => Promise<void> };

/**
 * Runs `pass` every `intervalMs` (after the previous pass ends, so passes
 * never overlap) until stopped. `stopped()` lets a pass that loops over a
 * backlog end early. A pass logs its own failures; one that throws anyway is
 * logged here and does not end the loop.
 */
export function startBackgroundLoop(
  intervalMs: number,
  pass: (stopped: () => boolean) => Promise<void>,
): BackgroundLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const isStopped = () => stopped;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass(isStopped)
        .catch((error: unknown) => log.error({ err: error }, "background pass failed"))
        .then(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
