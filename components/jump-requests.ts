"use client";

// "Open this conversation at that message" from outside the chat (the mentions view): the request
// waits here until the chat window for that conversation takes it, at mount or, if already open, at once.

const waiting = new Map<string, number>();
const EVENT = "chorus:jump";

export function requestJump(conversationId: string, seq: number) {
  waiting.set(conversationId, seq);
  window.dispatchEvent(new CustomEvent(EVENT, { detail: conversationId }));
}

/** Takes the waiting jump for a conversation, if any. */
export function takeJump(conversationId: string): number | null {
  const seq = waiting.get(conversationId);
  waiting.delete(conversationId);
  return seq ?? null;
}

export function onJumpRequested(listener: (conversationId: string) => void): () => void {
  const handler = (e: Event) => listener((e as CustomEvent<string>).detail);
  window.addEventListener(EVENT, handler);
  return () => window.removeEventListener(EVENT, handler);
}
