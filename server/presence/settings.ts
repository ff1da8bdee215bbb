import { env } from "../env";

export type PresenceSettings = {
  /** A heartbeat or webhook keeps a user present this long. */
  ttlSeconds: number;
  /** Browsers heartbeat this often: twice per TTL, so one lost beat does not flip anyone offline. */
  heartbeatSeconds: number;
  /** No input for this long and the browser reports itself away. */
  idleSeconds: number;
  /** Status changes are pushed to DMs and groups up to this size; larger groups ask for an online count. */
  fanoutMaxMembers: number;
  /** Typing indicators are off in groups above this size. */
  typingMaxMembers: number;
};

export function presenceSettings(): PresenceSettings {
  return {
    ttlSeconds: env.PRESENCE_TTL_SECONDS,
    heartbeatSeconds: heartbeatSecondsFor(env.PRESENCE_TTL_SECONDS),
    idleSeconds: env.PRESENCE_IDLE_SECONDS,
    fanoutMaxMembers: env.PRESENCE_FANOUT_MAX_MEMBERS,
    typingMaxMembers: env.TYPING_MAX_MEMBERS,
  };
}

export function heartbeatSecondsFor(ttlSeconds: number): number {
  return Math.max(5, Math.min(45, Math.floor(ttlSeconds / 2)));
}
