import { describe, expect, it } from "vitest";
import {
  createTypingReceiver,
  createTypingSender,
  type TypingPayload,
  type TypingUser,
  typingEnabled,
  typingLabel,
} from "./typing";

/** A clock the test moves by hand: timers fire when `advance` passes them. */
function manualClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (id: unknown) => {
      timers.delete(id as number);
    },
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
  };
}

const alice = { userId: "a1", name: "Alice" };

/** What the sender asks the server to announce (conversation.typing); no user id: the server names the typist. */
function recordingServer(reachable = true) {
  const sent: boolean[] = [];
  return {
    sent,
    send(typing: boolean) {
      if (reachable) sent.push(typing);
      return reachable;
    },
  };
}

describe("the typing sender", () => {
  it("sends at most one event every 3 seconds while alice keeps typing", () => {
    const clock = manualClock();
    const server = recordingServer();
    const sender = createTypingSender({ send: server.send, clock });
    for (let i = 0; i < 10; i++) {
      sender.notify();
      clock.advance(500);
    }
    // 0 s, 3 s: two starts in 5 s of typing.
    expect(server.sent.filter((typing) => typing)).toHaveLength(2);
    sender.dispose();
  });

  it("stops by itself 5 seconds after the last keystroke and tells peers", () => {
    const clock = manualClock();
    const server = recordingServer();
    const sender = createTypingSender({ send: server.send, clock });
    sender.notify();
    clock.advance(4_900);
    expect(server.sent).toEqual([true]);
    clock.advance(200);
    expect(server.sent).toEqual([true, false]);
  });

  it("clears at once on send or blur, and says nothing when alice was not typing", () => {
    const clock = manualClock();
    const server = recordingServer();
    const sender = createTypingSender({ send: server.send, clock });
    sender.stop();
    expect(server.sent).toEqual([]);
    sender.notify();
    sender.stop();
    sender.stop();
    expect(server.sent).toEqual([true, false]);
    // Typing again right after sending is announced again, without waiting for the throttle.
    sender.notify();
    expect(server.sent).toHaveLength(3);
    sender.dispose();
  });

  it("tries again on the next keystroke when the start could not be sent", () => {
    const clock = manualClock();
    const server = recordingServer(false);
    const sender = createTypingSender({ send: server.send, clock });
    sender.notify();
    sender.stop();
    expect(server.sent).toEqual([]);
  });
});

describe("the typing receiver", () => {
  const setup = () => {
    const clock = manualClock();
    const changes: TypingUser[][] = [];
    const receiver = createTypingReceiver({ selfId: "me", onChange: (u) => changes.push(u), clock });
    return { clock, changes, receiver };
  };

  it("shows alice typing and drops her 6 seconds after her last event", () => {
    const { clock, changes, receiver } = setup();
    receiver.receive({ ...alice, typing: true });
    clock.advance(3_000);
    receiver.receive({ ...alice, typing: true });
    clock.advance(5_900);
    expect(receiver.users()).toEqual([alice]);
    clock.advance(200);
    expect(receiver.users()).toEqual([]);
    expect(changes).toEqual([[alice], []]);
  });

  it("drops alice as soon as her message arrives or she stops", () => {
    const { receiver } = setup();
    receiver.receive({ ...alice, typing: true });
    receiver.clear(alice.userId);
    expect(receiver.users()).toEqual([]);
    receiver.receive({ ...alice, typing: true });
    receiver.receive({ ...alice, typing: false });
    expect(receiver.users()).toEqual([]);
  });

  it("ignores the user's own echo and malformed payloads", () => {
    const { receiver } = setup();
    receiver.receive({ userId: "me", name: "Me", typing: true });
    receiver.receive(null as unknown as TypingPayload);
    receiver.receive({ name: "x" } as unknown as TypingPayload);
    expect(receiver.users()).toEqual([]);
  });
});

describe("typing in groups", () => {
  it("is off above the group size limit", () => {
    expect(typingEnabled(2)).toBe(true);
    expect(typingEnabled(100)).toBe(true);
    expect(typingEnabled(101)).toBe(false);
    expect(typingEnabled(50, 20)).toBe(false);
  });

  it("words one, two and several typists", () => {
    expect(typingLabel([])).toBeNull();
    expect(typingLabel([alice])).toBe("Alice is typing…");
    expect(typingLabel([alice, { userId: "b", name: "Bob" }])).toBe("Alice and Bob are typing…");
    expect(typingLabel([alice, { userId: "b", name: "Bob" }, { userId: "c", name: "Carol" }])).toBe(
      "Several people are typing…",
    );
  });
});
