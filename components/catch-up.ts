"use client";
import type { QueryClient } from "@tanstack/react-query";
import type { ChatApi } from "./chat-api";
import { addMessages, getMessages, replaceMessages, setMessages } from "./chat-store";

const GAP_PAGE = 100;
type Run = { promise: Promise<void>; again: boolean };
const gapFills = new Map<string, Run>();
const changeFills = new Map<string, Run>();

/**
 * One run per conversation at a time. A second caller joins the running one
 * and makes it go round once more when done: the caller saw something (an
 * event for a newer message) that the running run's requests may have been
 * answered without, and would otherwise lose.
 */
function single(runs: Map<string, Run>, conversationId: string, work: () => Promise<void>): Promise<void> {
  const running = runs.get(conversationId);
  if (running) {
    running.again = true;
    return running.promise;
  }
  const run = { again: false } as Run;
  runs.set(conversationId, run);
  run.promise = (async () => {
    try {
      do {
        run.again = false;
        await work();
      } while (run.again);
    } finally {
      runs.delete(conversationId);
    }
  })();
  return run.promise;
}

/**
 * Fetches every message after the newest one loaded, page by page: fills a
 * seq gap (a missed event) or catches up after a reconnect. Duplicates are
 * dropped by seq when merging.
 */
export function fillGap(qc: QueryClient, api: ChatApi, conversationId: string): Promise<void> {
  return single(gapFills, conversationId, async () => {
    for (;;) {
      const state = getMessages(qc, conversationId);
      if (!state) return;
      const afterSeq = state.items.at(-1)?.seq ?? 0;
      const page = await api.history(conversationId, { afterSeq, limit: GAP_PAGE });
      addMessages(qc, conversationId, page.messages);
      if (!page.hasMore) return;
    }
  });
}

/**
 * Brings loaded messages up to date with edits, deletes and reactions made
 * while this client was away (or whose events it missed): message.changes
 * from the loaded state's change count, O(changed), page by page.
 */
export function fillChanges(qc: QueryClient, api: ChatApi, conversationId: string): Promise<void> {
  return single(changeFills, conversationId, async () => {
    for (;;) {
      const state = getMessages(qc, conversationId);
      if (!state) return;
      const page = await api.changes(conversationId, state.changeSeq);
      setMessages(qc, conversationId, (s) => ({
        ...s,
        items: replaceMessages(s.items, page.messages),
        changeSeq: Math.max(s.changeSeq, page.cursor),
      }));
      if (!page.hasMore) return;
    }
  });
}

/**
 * The server said the conversation's last seq (a heartbeat's answer): fetches
 * what the loaded messages lack, when they lack something. That is a live
 * event that never came, with no later message to reveal the gap (a Soketi
 * node cut off from the others). True when it fetched.
 */
export async function fillIfBehind(
  qc: QueryClient,
  api: ChatApi,
  conversationId: string,
  lastSeq: number,
): Promise<boolean> {
  const state = getMessages(qc, conversationId);
  if (!state) return false;
  const newest = Math.max(state.items.at(-1)?.seq ?? 0, state.removedThroughSeq ?? 0);
  if (newest >= lastSeq) return false;
  await fillGap(qc, api, conversationId);
  return true;
}

/** After a reconnect: new messages first, then changes to the ones loaded. */
export async function catchUpConversation(qc: QueryClient, api: ChatApi, conversationId: string): Promise<void> {
  await fillGap(qc, api, conversationId);
  await fillChanges(qc, api, conversationId);
}
