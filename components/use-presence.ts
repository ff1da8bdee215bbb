"use client";
/**
 * Presence in the browser.
 *
 *   usePresenceSync(open?)            Mount ONCE in the signed-in shell. Sends presence.heartbeat
 *                                     every `heartbeatSeconds` (and at once on connect, tab hidden or
 *                                     shown, idle or back), `away` when the tab is hidden or the user
 *                                     has been idle `idleSeconds`; applies every `presence` event
 *                                     (from any subscribed channel) to the shared store; refetches
 *                                     after a reconnect. `open`: the conversation on screen, whose
 *                                     last seq each beat's answer hands to `open.onLastSeq`.
 *   usePresence(userIds)              Map userId -> { userId, status, lastSeenAt } for up to any
 *                                     number of ids (fetched 200 at a time, then kept current by
 *                                     events). Users you share no conversation with are absent.
 *   useUserPresence(userId | null)    One user's presence, or null (unknown, or a group).
 *   useOnlineCount(conversationId, { enabled })
 *                                     { online, members } for large groups, which get no pushed
 *                                     presence events; refreshed every 30 s. Enable it when
 *                                     memberCount > presence settings' fanoutMaxMembers
 *                                     (see usePresenceSettings()).
 *   useMyStatus()                     { status: manual choice or null, setStatus(status | null) }.
 *   presenceText(presence)            "online", "away", "busy", "last seen 5 min ago", "offline".
 *
 * Statuses: online, away (hidden/idle tab, or chosen), busy (chosen), offline (with lastSeenAt).
 */
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { PresenceStatus } from "@/db/schema/users";
import type { RealtimeEvents } from "@/server/realtime/events";
import { lastSeenText } from "./format";
import { useRealtime } from "./realtime";
import { useTRPC } from "./trpc";

export type UserPresence = { userId: string; status: PresenceStatus; lastSeenAt: string | null };
export type ManualStatus = "online" | "away" | "busy";

const DEFAULT_SETTINGS = { heartbeatSeconds: 45, idleSeconds: 300, typingMaxMembers: 100, fanoutMaxMembers: 100 };
const IDS_PER_REQUEST = 200;

// One store for the whole page: the list, the header and the member panel all
// show the same dot, and one event updates them all.
const store = new Map<string, UserPresence>();
const listeners = new Set<() => void>();
let storeVersion = 0;

function putPresence(list: UserPresence[]) {
  let changed = false;
  for (const p of list) {
    const current = store.get(p.userId);
    if (current && current.status === p.status && current.lastSeenAt === p.lastSeenAt) continue;
    store.set(p.userId, { userId: p.userId, status: p.status, lastSeenAt: p.lastSeenAt });
    changed = true;
  }
  if (!changed) return;
  storeVersion += 1;
  for (const listener of listeners) listener();
}

function subscribeStore(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const getVersion = () => storeVersion;

/** Timings and limits from the server (PRESENCE_* and TYPING_MAX_MEMBERS), with defaults until loaded. */
export function usePresenceSettings() {
  const trpc = useTRPC();
  const settings = useQuery(trpc.presence.settings.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY }));
  return settings.data ?? DEFAULT_SETTINGS;
}

/** Is the user here: the tab is visible and they touched keyboard, mouse or screen recently. */
function useAway(idleSeconds: number): boolean {
  const [away, setAway] = useState(false);
  useEffect(() => {
    let lastInput = Date.now();
    const evaluate = () => setAway(document.hidden || Date.now() - lastInput > idleSeconds * 1000);
    const onInput = () => {
      lastInput = Date.now();
      if (!document.hidden) setAway(false);
    };
    const events = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "focus"] as const;
    for (const e of events) window.addEventListener(e, onInput, { passive: true });
    document.addEventListener("visibilitychange", evaluate);
    const timer = window.setInterval(evaluate, 15_000);
    evaluate();
    return () => {
      for (const e of events) window.removeEventListener(e, onInput);
      document.removeEventListener("visibilitychange", evaluate);
      window.clearInterval(timer);
    };
  }, [idleSeconds]);
  return away;
}

export type OpenConversation = {
  conversationId: string | null;
  onLastSeq: (conversationId: string, lastSeq: number) => void;
};

export function usePresenceSync(open?: OpenConversation): void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { pusher, state } = useRealtime();
  const settings = usePresenceSettings();
  const away = useAway(settings.idleSeconds);
  // Read at each beat: switching conversations does not beat again.
  const openRef = useRef(open);
  openRef.current = open;
  const { mutate } = useMutation(
    trpc.presence.heartbeat.mutationOptions({
      onSuccess: ({ openLastSeq, ...presence }, variables) => {
        putPresence([presence]);
        const asked = variables?.open;
        if (asked && openLastSeq !== null) openRef.current?.onLastSeq(asked, openLastSeq);
      },
    }),
  );

  // A beat now whenever what we would report changes (away, connected), then on a steady interval.
  const connected = state === "connected";
  // biome-ignore lint/correctness/useExhaustiveDependencies: `connected` re-runs it so a (re)connect beats at once.
  useEffect(() => {
    const beat = () => mutate({ away, open: openRef.current?.conversationId ?? undefined });
    beat();
    const timer = window.setInterval(beat, settings.heartbeatSeconds * 1000);
    return () => window.clearInterval(timer);
  }, [mutate, away, connected, settings.heartbeatSeconds]);

  useEffect(() => {
    if (!pusher) return;
    const onPresence = (event: RealtimeEvents["presence"]) => putPresence([event]);
    pusher.bind("presence", onPresence);
    return () => {
      pusher.unbind("presence", onPresence);
    };
  }, [pusher]);

  // Events missed while disconnected: ask again once back.
  const wasConnected = useRef(false);
  useEffect(() => {
    if (!connected) return;
    if (wasConnected.current) void queryClient.invalidateQueries({ queryKey: trpc.presence.get.pathKey() });
    wasConnected.current = true;
  }, [connected, queryClient, trpc]);
}

export function usePresence(userIds: readonly string[]): Map<string, UserPresence> {
  const trpc = useTRPC();
  const key = useMemo(() => [...new Set(userIds)].sort().join(","), [userIds]);
  const batches = useMemo(() => {
    const ids = key ? key.split(",") : [];
    const out: string[][] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) out.push(ids.slice(i, i + IDS_PER_REQUEST));
    return out;
  }, [key]);
  const results = useQueries({
    queries: batches.map((ids) => trpc.presence.get.queryOptions({ userIds: ids }, { staleTime: 60_000 })),
  });
  const fetchedAt = results.map((r) => r.dataUpdatedAt).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-run when a batch was (re)fetched, not on every render.
  useEffect(() => {
    for (const r of results) if (r.data) putPresence(r.data);
  }, [fetchedAt]);

  const version = useSyncExternalStore(subscribeStore, getVersion, getVersion);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the store's change signal.
  return useMemo(() => {
    const map = new Map<string, UserPresence>();
    for (const id of key ? key.split(",") : []) {
      const p = store.get(id);
      if (p) map.set(id, p);
    }
    return map;
  }, [key, version]);
}

export function useUserPresence(userId: string | null): UserPresence | null {
  const ids = useMemo(() => (userId ? [userId] : []), [userId]);
  return usePresence(ids).get(userId ?? "") ?? null;
}

export function useOnlineCount(
  conversationId: string | null,
  options: { enabled?: boolean } = {},
): { online: number; members: number } | null {
  const trpc = useTRPC();
  const enabled = Boolean(conversationId) && (options.enabled ?? true);
  const query = useQuery(
    trpc.presence.onlineCount.queryOptions(
      { conversationId: conversationId ?? "" },
      { enabled, refetchInterval: 30_000, staleTime: 15_000 },
    ),
  );
  return enabled ? (query.data ?? null) : null;
}

export function useMyStatus(): { status: ManualStatus | null; setStatus: (status: ManualStatus | null) => void } {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const mine = useQuery(trpc.presence.mine.queryOptions(undefined, { staleTime: 60_000 }));
  const { mutate } = useMutation(
    trpc.presence.setStatus.mutationOptions({
      onSuccess: (presence) => {
        putPresence([presence]);
        void queryClient.invalidateQueries({ queryKey: trpc.presence.mine.queryKey() });
      },
    }),
  );
  const setStatus = useCallback((next: ManualStatus | null) => mutate({ status: next }), [mutate]);
  const manual = mine.data?.manual;
  return { status: manual === "offline" || !manual ? null : manual, setStatus };
}

export function presenceText(presence: UserPresence | null, now = Date.now()): string {
  if (!presence) return "";
  if (presence.status === "offline") return lastSeenText(presence.lastSeenAt, now);
  return presence.status;
}
