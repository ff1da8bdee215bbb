import { vapidDetails } from "../config/secrets";
import { env } from "../env";
import type { PushTransport } from "./delivery";
import { endpointPolicyFromEnv } from "./endpoint";

/** How this process sends pushes: keys, endpoint policy, timeout, and the per-user rate. */
export type PushConfig = PushTransport & { ratePerMinute: number };

let current: PushConfig | undefined;

export function pushConfig(): PushConfig {
  current ??= {
    vapid: vapidDetails(),
    policy: endpointPolicyFromEnv(),
    timeoutMs: env.PUSH_TIMEOUT_MS,
    ratePerMinute: env.PUSH_RATE_LIMIT,
  };
  return current;
}

/** Tests and the bench: their own keys and a local endpoint on the allow list. */
export function usePushConfig(config: PushConfig) {
  current = config;
}
