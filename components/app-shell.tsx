"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { usePathname } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { fillIfBehind } from "./catch-up";
import { createChatApi } from "./chat-api";
import { ChatContext, type ChatContextValue, createAcks, useChat, useConversations } from "./chat-context";
import { ChatWindow } from "./chat-window";
import { ConnectionBanner } from "./connection-banner";
import { ConversationList } from "./conversation-list";
import { MessageSearch, useSearchShortcut } from "./message-search";
import { useRealtime } from "./realtime";
import { useNotificationSettings } from "./notification-settings";
import { setFaviconCount } from "./page-alerts";
import { registerServiceWorker } from "./push-client";
import { chatKeys } from "./chat-store";
import { RealtimeSync } from "./realtime-sync";
import { useTRPC, useTRPCClient } from "./trpc";
import { usePresenceSync } from "./use-presence";

const CONVERSATION_PATH = /^\/c\/([0-9a-f-]{36})\/?$/i;

export function AppShell() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const me = useQuery(trpc.user.me.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY }));
  const { state } = useRealtime();
  const api = useMemo(() => createChatApi(client), [client]);
  const acks = useMemo(() => createAcks(api), [api]);
  const [localRead] = useState(() => new Map<string, number>());

  useEffect(() => {
    document.documentElement.dataset.signedIn = "true";
    window.dispatchEvent(new Event("chorus:realtime-enable"));
  }, []);
  useEffect(() => () => acks.dispose(), [acks]);

  // Conversations open by URL; switching uses history.pushState so the shell, its caches and subscriptions stay.
  const pathname = usePathname();
  const activeId = pathname.match(CONVERSATION_PATH)?.[1]?.toLowerCase() ?? null;
  const navigate = useCallback((conversationId: string | null) => {
    window.history.pushState(null, "", conversationId ? `/c/${conversationId}` : "/");
  }, []);

  const value = useMemo<ChatContextValue | null>(
    () =>
      me.data
        ? {
            me: { ...me.data, avatarUrl: me.data.avatarUrl ?? null },
            api,
            acks,
            localRead,
            activeId,
            navigate,
          }
        : null,
    [me.data, api, acks, localRead, activeId, navigate],
  );

  if (!value) {
    return (
      <div className="shell shell-loading" data-testid="app-shell" data-realtime={state}>
        {me.error ? (
          <p className="error" role="alert">
            Could not load your account: {me.error.message}. <a href="/sign-in">Sign in again</a>
          </p>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
    );
  }

  return (
    <ChatContext.Provider value={value}>
      <SearchBox />
      <PresenceSync />
      <RealtimeSync />
      <DocumentTitle />
      <NotificationsGlue />
      <div
        className={`shell ${activeId ? "shell-has-chat" : "shell-no-chat"}`}
        data-testid="app-shell"
        data-realtime={state}
      >
        <ConnectionBanner />
        <ConversationList />
        <main className="chat-pane" aria-label="Conversation">
          {activeId ? (
            <ChatWindow key={activeId} conversationId={activeId} />
          ) : (
            <div className="chat-empty" data-testid="chat-empty">
              <h2>Welcome, {value.me.displayName}</h2>
              <p className="muted">Pick a conversation on the left, or start a new chat.</p>
            </div>
          )}
        </main>
      </div>
    </ChatContext.Provider>
  );
}

/** Message search: Ctrl/Cmd+K or /, or the sidebar's search button (which dispatches chorus:search). */
function SearchBox() {
  const [open, setOpen] = useState(false);
  const show = useCallback(() => setOpen(true), []);
  useSearchShortcut(show);
  useEffect(() => {
    window.addEventListener("chorus:search", show);
    return () => window.removeEventListener("chorus:search", show);
  }, [show]);
  return <MessageSearch open={open} onClose={() => setOpen(false)} />;
}

/** Heartbeats; each answer also says how far the open conversation goes, so a lost last message shows. */
function PresenceSync() {
  const { activeId, api } = useChat();
  const qc = useQueryClient();
  const onLastSeq = useCallback(
    (conversationId: string, lastSeq: number) =>
      void fillIfBehind(qc, api, conversationId, lastSeq)
        .then(async (fetched) => {
          // The list's preview and badge missed the same event.
          if (fetched) await qc.invalidateQueries({ queryKey: chatKeys.conversations() });
        })
        .catch((err: unknown) => console.error("catching up the open conversation failed", err)),
    [qc, api],
  );
  usePresenceSync({ conversationId: activeId, onLastSeq });
  return null;
}

/** "(3) Chorus" and a red 3 on the favicon: unread of conversations whose level is not none. */
function DocumentTitle() {
  const list = useConversations();
  const total = (list.data ?? []).reduce((sum, c) => sum + (c.muted ? 0 : c.unread), 0);
  useEffect(() => {
    document.title = total > 0 ? `(${total}) Chorus` : "Chorus";
    document.documentElement.dataset.unreadTotal = String(total);
    setFaviconCount(total);
  }, [total]);
  return null;
}

/**
 * Registers the service worker (it shows pushes and this tab's own alerts),
 * follows a notification click to its conversation, and loads the preview setting alerts need.
 */
function NotificationsGlue() {
  const { navigate } = useChat();
  useNotificationSettings();
  useEffect(() => {
    if (!("serviceWorker" in navigator)) return;
    registerServiceWorker()
      .then(() => {
        document.documentElement.dataset.serviceWorker = "registered";
      })
      .catch((error: unknown) => console.warn("service worker not registered", error));
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { type?: string; url?: string } | null;
      const id = data?.type === "chorus:open" ? data.url?.match(CONVERSATION_PATH)?.[1] : null;
      if (id) navigate(id.toLowerCase());
    };
    navigator.serviceWorker.addEventListener("message", onMessage);
    return () => navigator.serviceWorker.removeEventListener("message", onMessage);
  }, [navigate]);
  return null;
}
