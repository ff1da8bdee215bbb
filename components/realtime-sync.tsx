"use client";
import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";
import { conversationChannel, userChannel } from "@/server/realtime/channels";
import type { RealtimeEvents, WireMessage } from "@/server/realtime/events";
import { catchUpConversation, fillChanges, fillGap } from "./catch-up";
import type { ChatApi, NotificationSettings } from "./chat-api";
import { useChat, useConversations } from "./chat-context";
import {
  addMessages,
  applyMessageToList,
  applyReadToList,
  applyUnreadToList,
  applyUpdate,
  chatKeys,
  type ConversationItem,
  getMessages,
  type MessagesState,
  previewOf,
  setMessages,
  updateConversation,
} from "./chat-store";
import { alertFor, shouldAlert, showAlert } from "./page-alerts";
import { useRealtime } from "./realtime";
import { useTRPC } from "./trpc";

/** A hidden tab alerts for the messages a push would have announced (the server does not push to open tabs). */
function alertIfHidden(
  qc: QueryClient,
  m: WireMessage,
  me: { id: string; username: string },
  navigate: (conversationId: string) => void,
) {
  if (document.visibilityState !== "hidden") return;
  const conv = qc.getQueryData<ConversationItem[]>(chatKeys.conversations())?.find((c) => c.id === m.conversationId);
  if (!shouldAlert(m, conv, me) || !conv) return;
  const settings = qc.getQueryData<NotificationSettings>(chatKeys.notificationSettings());
  void showAlert(alertFor(m, conv, settings?.preview ?? true), () => navigate(m.conversationId)).catch(reportError);
}

/** Invisible glue between pusher-js and the query cache: subscriptions, live merges, catch-up. */
export function RealtimeSync() {
  const qc = useQueryClient();
  const chat = useChat();
  const { pusher, state } = useRealtime();
  const conversations = useConversations();
  const chatRef = useRef(chat);
  chatRef.current = chat;
  const syncVersion = useRef<number | null>(null);

  const handlers = useRef({
    onMessage(event: RealtimeEvents["message.new"]) {
      const { me, api, acks } = chatRef.current;
      if ("ref" in event) {
        // Only ids came (too large for Pusher, or quoting what some members may not see): history has the rest.
        void fetchOne(qc, api, event.conversationId, event.seq, me)
          .then((m) => {
            if (!m || m.senderId === me.id) return;
            acks.markDelivered(m.conversationId, m.seq);
            alertIfHidden(qc, m, me, chatRef.current.navigate);
          })
          .catch(reportError);
        return;
      }
      const m: WireMessage = event;
      const loaded = getMessages(qc, m.conversationId);
      const newest = loaded?.items.at(-1)?.seq ?? 0;
      if (loaded && newest > 0 && m.seq > newest + 1) {
        // A missed event: fetch the gap, the new message comes with it, in order.
        void fillGap(qc, api, m.conversationId).catch(reportError);
      } else if (loaded) {
        addMessages(qc, m.conversationId, [m]);
      }
      const known = applyMessageToList(qc, m, me);
      if (!known) void qc.invalidateQueries({ queryKey: chatKeys.conversations() });
      if (m.senderId !== me.id) acks.markDelivered(m.conversationId, m.seq);
      alertIfHidden(qc, m, me, chatRef.current.navigate);
    },
    onUpdated(event: RealtimeEvents["message.updated"]) {
      const { me, api } = chatRef.current;
      const loaded = getMessages(qc, event.conversationId);
      if ("ref" in event) {
        // Too large for Pusher: message.changes has the new state.
        if (loaded) void fillChanges(qc, api, event.conversationId).catch(reportError);
      } else if (loaded) {
        // The change count is gapless per conversation: a jump means an event was missed.
        const missed = event.changeSeq > loaded.changeSeq + 1;
        setMessages(qc, event.conversationId, (s) => ({
          ...s,
          items: applyUpdate(s.items, event, me.id),
          changeSeq: event.changeSeq === s.changeSeq + 1 ? event.changeSeq : s.changeSeq,
        }));
        if (missed) void fillChanges(qc, api, event.conversationId).catch(reportError);
      }
      if ("ref" in event) return;
      updateConversation(qc, event.conversationId, (c) =>
        event.seq === c.lastSeq && !event.reaction
          ? { ...c, preview: event.deletedAt ? null : previewOf({ body: event.body }) }
          : c,
      );
      // A tombstone may leave the badge: the server's count is exact, ours is not.
      const conv = qc
        .getQueryData<ConversationItem[]>(chatKeys.conversations())
        ?.find((c) => c.id === event.conversationId);
      if (event.deletedAt && conv && conv.unread > 0) refreshListRef.current();
    },
    onConversationNew() {
      void qc.invalidateQueries({ queryKey: chatKeys.conversations() });
    },
    onNotificationsChanged(e: RealtimeEvents["notifications.changed"]) {
      const { conversationId, ...notifications } = e;
      updateConversation(qc, conversationId, (c) => ({ ...c, muted: e.muted, notifications }));
      // A list fetch already in flight may answer with the old level: fetch again after it.
      void qc.invalidateQueries({ queryKey: chatKeys.conversations() });
    },
    onNotificationSettingsChanged() {
      // Defaults moved the level of every conversation that follows them.
      void qc.invalidateQueries({ queryKey: chatKeys.conversations() });
      // This tab's own saves in flight: their answers bring the settings (a refetch now could undo a newer choice).
      if (qc.isMutating({ mutationKey: chatKeys.notificationSettings() }) === 0) {
        void qc.invalidateQueries({ queryKey: chatKeys.notificationSettings() });
      }
    },
    onReceipts(e: RealtimeEvents["receipts.changed"]) {
      void qc.invalidateQueries({ queryKey: chatKeys.receipts(e.conversationId) });
    },
    onReadChanged(e: RealtimeEvents["read.changed"]) {
      const { localRead } = chatRef.current;
      if (e.back) {
        // Marked unread on another device (or this one): the badge comes back.
        localRead.set(e.conversationId, e.readSeq);
        applyUnreadToList(qc, e.conversationId, e.readSeq);
        refreshListRef.current();
        return;
      }
      if (e.readSeq > (localRead.get(e.conversationId) ?? 0)) localRead.set(e.conversationId, e.readSeq);
      applyReadToList(qc, e.conversationId, e.readSeq);
    },
    async onSync(e: RealtimeEvents["sync"]) {
      const { api } = chatRef.current;
      const since = syncVersion.current;
      if (since !== null && e.version <= since) return;
      try {
        if (since !== null) {
          const delta = await api.syncSince(since);
          syncVersion.current = delta.version;
          for (const g of delta.groups) {
            updateConversation(qc, g.id, (c) => ({
              ...c,
              title: g.name || c.title,
              avatarUrl: g.avatarUrl,
              memberCount: g.memberCount,
            }));
          }
          if (delta.removed.length > 0) {
            const gone = new Set(delta.removed);
            qc.setQueryData<ConversationItem[]>(chatKeys.conversations(), (list) =>
              list?.filter((c) => !gone.has(c.id)),
            );
          }
        } else {
          syncVersion.current = e.version;
        }
      } finally {
        // Names, avatars, member counts and removals all show in the list and headers.
        await invalidateGroupViews(qc);
      }
    },
  });

  // Catch up whenever the socket (re)connects or the browser comes back online.
  const wasConnected = useRef(false);
  useEffect(() => {
    if (state !== "connected") return;
    if (wasConnected.current) void catchUp(qc, chatRef.current.api).catch(reportError);
    wasConnected.current = true;
  }, [state, qc]);

  useEffect(() => {
    const onOnline = () => void catchUp(qc, chatRef.current.api).catch(reportError);
    window.addEventListener("online", onOnline);
    return () => window.removeEventListener("online", onOnline);
  }, [qc]);

  // One list (and presence) refetch for a whole batch of new subscriptions (hundreds on start-up):
  // whatever was published before a channel was subscribed is fetched instead.
  const trpc = useTRPC();
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refreshListSoon = useCallback(() => {
    if (refreshTimer.current) return;
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      void qc.invalidateQueries({ queryKey: chatKeys.conversations() });
      void qc.invalidateQueries({ queryKey: trpc.presence.get.pathKey() });
    }, 250);
  }, [qc, trpc]);
  const refreshListRef = useRef(refreshListSoon);
  refreshListRef.current = refreshListSoon;
  useEffect(
    () => () => {
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    },
    [],
  );

  // The user's own channel.
  const meId = chat.me.id;
  useEffect(() => {
    if (!pusher) return;
    const name = userChannel(meId);
    const channel = pusher.subscribe(name);
    const h = handlers.current;
    channel.bind("read.changed", h.onReadChanged);
    channel.bind("conversation.new", h.onConversationNew);
    channel.bind("notifications.changed", h.onNotificationsChanged);
    channel.bind("notification-settings.changed", h.onNotificationSettingsChanged);
    channel.bind("sync", (e: RealtimeEvents["sync"]) => void h.onSync(e).catch(reportError));
    // Conversations opened for us before this subscription took effect.
    channel.bind("pusher:subscription_succeeded", refreshListSoon);
    return () => {
      channel.unbind_all();
      pusher.unsubscribe(name);
    };
  }, [pusher, meId, refreshListSoon]);

  // One channel per conversation in the list; pusher-js asks for their auth in one batch.
  const subscribed = useRef(new Set<string>());
  // Conversations whose channel is subscribed: what arrives there now comes live (and alerts), not by catch-up.
  const showLive = useCallback(() => {
    const live = [...subscribed.current].filter((id) => pusher?.channel(conversationChannel(id))?.subscribed);
    document.documentElement.dataset.liveConversations = String(live.length);
  }, [pusher]);
  const ids = conversations.data?.map((c) => c.id).join(",") ?? "";
  useEffect(() => {
    if (!pusher) return;
    const want = new Set(ids ? ids.split(",") : []);
    const h = handlers.current;
    for (const id of want) {
      if (subscribed.current.has(id)) continue;
      subscribed.current.add(id);
      const channel = pusher.subscribe(conversationChannel(id));
      channel.bind("message.new", h.onMessage);
      channel.bind("message.updated", h.onUpdated);
      channel.bind("receipts.changed", h.onReceipts);
      // Subscribe first, then backfill: anything sent before the subscription took effect.
      channel.bind("pusher:subscription_succeeded", () => {
        showLive();
        if (getMessages(qc, id)) void catchUpConversation(qc, chatRef.current.api, id).catch(reportError);
        refreshListSoon();
      });
      // Refused: no longer a member (removed, or left on another device). The list refetch drops it,
      // and the effect below unsubscribes, even when the sync event was lost while the socket was closed.
      channel.bind("pusher:subscription_error", refreshListSoon);
    }
    for (const id of [...subscribed.current]) {
      if (want.has(id)) continue;
      subscribed.current.delete(id);
      pusher.channel(conversationChannel(id))?.unbind_all();
      pusher.unsubscribe(conversationChannel(id));
    }
    showLive();
  }, [pusher, ids, qc, refreshListSoon, showLive]);

  useEffect(() => {
    const current = subscribed.current;
    return () => {
      if (!pusher) return;
      for (const id of current) {
        pusher.channel(conversationChannel(id))?.unbind_all();
        pusher.unsubscribe(conversationChannel(id));
      }
      current.clear();
      showLive();
    };
  }, [pusher, showLive]);

  // Messages that arrived while we were away are delivered once the list shows them.
  useEffect(() => {
    for (const c of conversations.data ?? []) {
      if (c.unread > 0) chat.acks.markDelivered(c.id, c.lastSeq);
    }
  }, [conversations.data, chat.acks]);

  // Acknowledgements go out before the page goes away or hides.
  useEffect(() => {
    const flush = () => void chat.acks.flush();
    const onVisibility = () => {
      if (document.visibilityState === "hidden") flush();
    };
    window.addEventListener("pagehide", flush);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.removeEventListener("pagehide", flush);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [chat.acks]);

  return null;
}

async function fetchOne(
  qc: QueryClient,
  api: ChatApi,
  conversationId: string,
  seq: number,
  me: { id: string; username: string },
) {
  const page = await api.history(conversationId, { afterSeq: seq - 1, limit: 1 });
  const m = page.messages[0];
  if (!m) return null;
  if (getMessages(qc, conversationId)) await fillGap(qc, api, conversationId);
  if (!applyMessageToList(qc, m, me)) await qc.invalidateQueries({ queryKey: chatKeys.conversations() });
  return m;
}

async function catchUp(qc: QueryClient, api: ChatApi) {
  await qc.invalidateQueries({ queryKey: chatKeys.conversations() });
  const loaded = qc.getQueriesData<MessagesState>({ queryKey: ["chorus", "messages"] });
  await Promise.all(
    loaded.map(([key, data]) => (data ? catchUpConversation(qc, api, String(key[2])) : Promise.resolve())),
  );
  await qc.invalidateQueries({ queryKey: ["chorus", "receipts"] });
  await invalidateGroupViews(qc);
}

async function invalidateGroupViews(qc: QueryClient) {
  // tRPC query keys start with the procedure path; group info panels and headers use these.
  await qc.invalidateQueries({
    predicate: (q) => {
      const head = q.queryKey[0];
      if (Array.isArray(head)) return head[0] === "group" || (head[0] === "conversation" && head[1] !== "list");
      return q.queryKey[0] === "chorus" && q.queryKey[1] === "conversations";
    },
  });
}

function reportError(err: unknown) {
  console.error("realtime sync failed", err);
}

export type { ConversationItem };
