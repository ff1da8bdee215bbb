/**
 * Typing indicators without React. The browser tells the server
 * (conversation.typing), which publishes a `typing` event naming the
 * session's user on the conversation channel; nothing is stored. The React
 * hook (use-typing.ts) wraps these; tests drive them with real pusher-js clients.
 *
 *   const sender = createTypingSender({ send: (typing) => api.typing({ conversationId, typing }) });
 *   input.oninput = () => sender.notify();     // at most one start per 3 s
 *   onSend / onBlur = () => sender.stop();      // tells peers at once
 *   // 5 s without input stops by itself.
 *
 *   const receiver = createTypingReceiver({ selfId, onChange: (users) => render(users) });
 *   channel.bind("typing", receiver.receive);
 *   channel.bind("message.new", (m) => receiver.clear(m.senderId));
 *   typingLabel(receiver.users()) // "Alice is typing…", "Several people are typing…"
 */
import type { RealtimeEvents } from "@/server/realtime/events";

export const TYPING_EVENT = "typing";
/** A typing event is sent at most this often while the user keeps typing. */
export const TYPING_THROTTLE_MS = 3_000;
/** The sender stops by itself after this long without input. */
export const TYPING_IDLE_MS = 5_000;
/** Receivers drop someone this long after their last event (a lost stop, a closed tab). */
export const TYPING_SHOW_MS = 6_000;
/** Default of TYPING_MAX_MEMBERS; presence.settings gives the deployment's value. */
export const DEFAULT_TYPING_MAX_MEMBERS = 100;

export type TypingPayload = RealtimeEvents["typing"];
export type TypingUser = { userId: string; name: string };

/** Tells the server the user started (true) or stopped (false) typing; false when it could not be sent yet. */
export type SendTyping = (typing: boolean) => boolean | undefined;

type Clock = {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
};

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Typing is off in groups above the limit: the events would cost more than they tell. */
export function typingEnabled(memberCount: number, maxMembers = DEFAULT_TYPING_MAX_MEMBERS): boolean {
  return memberCount > 0 && memberCount <= maxMembers;
}

export type TypingSender = {
  /** Call on every keystroke that leaves text in the box. */
  notify(): void;
  /** Call on send, blur or an emptied box. */
  stop(): void;
  /** Stops and forgets timers (unmount, conversation switch). */
  dispose(): void;
};

export function createTypingSender(options: { send: SendTyping; clock?: Partial<Clock> }): TypingSender {
  const clock = { ...systemClock, ...options.clock };
  let lastSentAt: number | null = null;
  let idleTimer: unknown = null;

  const send = (typing: boolean) => options.send(typing) !== false;
  const clearIdle = () => {
    if (idleTimer !== null) clock.clearTimeout(idleTimer);
    idleTimer = null;
  };
  const stop = () => {
    clearIdle();
    if (lastSentAt === null) return;
    lastSentAt = null;
    send(false);
  };
  return {
    notify() {
      const now = clock.now();
      // Not sendable yet (send returned false): the next keystroke tries again.
      if ((lastSentAt === null || now - lastSentAt >= TYPING_THROTTLE_MS) && send(true)) lastSentAt = now;
      clearIdle();
      idleTimer = clock.setTimeout(stop, TYPING_IDLE_MS);
    },
    stop,
    dispose: stop,
  };
}

export type TypingReceiver = {
  /** Bind to `typing` on the conversation channel. */
  receive(payload: TypingPayload): void;
  /** Someone's message arrived: they are no longer typing it. */
  clear(userId: string | null | undefined): void;
  users(): TypingUser[];
  dispose(): void;
};

export function createTypingReceiver(options: {
  selfId: string;
  onChange: (users: TypingUser[]) => void;
  clock?: Partial<Clock>;
}): TypingReceiver {
  const clock = { ...systemClock, ...options.clock };
  const typing = new Map<string, { name: string; until: number }>();
  let timer: unknown = null;

  const users = () => [...typing.entries()].map(([userId, { name }]) => ({ userId, name }));
  const changed = () => options.onChange(users());
  const expire = () => {
    timer = null;
    const now = clock.now();
    let removed = false;
    for (const [userId, entry] of typing) {
      if (entry.until <= now) {
        typing.delete(userId);
        removed = true;
      }
    }
    schedule();
    if (removed) changed();
  };
  const schedule = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    if (typing.size === 0) return;
    const next = Math.min(...[...typing.values()].map((e) => e.until));
    timer = clock.setTimeout(expire, Math.max(0, next - clock.now()));
  };

  return {
    receive(payload) {
      if (!payload || typeof payload.userId !== "string" || payload.userId === options.selfId) return;
      if (payload.typing === false) {
        if (typing.delete(payload.userId)) {
          schedule();
          changed();
        }
        return;
      }
      const isNew = !typing.has(payload.userId);
      const name = typeof payload.name === "string" ? payload.name.slice(0, 80) : "Someone";
      typing.set(payload.userId, { name, until: clock.now() + TYPING_SHOW_MS });
      schedule();
      if (isNew) changed();
    },
    clear(userId) {
      if (userId && typing.delete(userId)) {
        schedule();
        changed();
      }
    },
    users,
    dispose() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      typing.clear();
    },
  };
}

/** "Alice is typing…", "Alice and Bob are typing…", "Several people are typing…", or null. */
export function typingLabel(users: TypingUser[]): string | null {
  if (users.length === 0) return null;
  if (users.length === 1) return `${users[0].name} is typing…`;
  if (users.length === 2) return `${users[0].name} and ${users[1].name} are typing…`;
  return "Several people are typing…";
}
