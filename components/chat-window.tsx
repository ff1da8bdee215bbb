"use client";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Avatar } from "./avatar";
import { useChat, useConversations, useMarkRead } from "./chat-context";
import {
  chatKeys,
  type ConversationItem,
  errorCode,
  getMessages,
  type MessagesState,
  mergeMessages,
  PAGE_SIZE,
  setMessages,
  updateConversation,
} from "./chat-store";
import { HeaderStatus } from "./chat-presence";
import { Composer, useSendMessage } from "./composer";
import { GroupInfoPanel } from "./group-info-panel";
import { BackIcon, BellIcon, BellOffIcon, InfoIcon, MegaphoneIcon } from "./icons";
import { MessageList } from "./message-list";
import { useTRPC } from "./trpc";
import { useTyping } from "./use-typing";

const MAX_PAGE = 100;

export function ChatWindow({ conversationId }: { conversationId: string }) {
  const { me, api, acks, navigate } = useChat();
  const qc = useQueryClient();
  const trpc = useTRPC();
  const list = useConversations();
  const conv = list.data?.find((c) => c.id === conversationId) ?? null;
  const details = useQuery({ ...trpc.conversation.get.queryOptions({ conversationId }), retry: false });
  const [infoOpen, setInfoOpen] = useState(false);

  // A conversation opened from elsewhere (a link, New chat, a peer's first message) joins the list.
  const refetchedFor = useRef<string | null>(null);
  useEffect(() => {
    if (list.isSuccess && !conv && details.isSuccess && refetchedFor.current !== conversationId) {
      refetchedFor.current = conversationId;
      void list.refetch();
    }
  }, [list, conv, details.isSuccess, conversationId]);

  // Where "unread" starts, fixed when the conversation opens so the divider stays put while reading.
  const [firstUnreadSeq] = useState<number | null>(() => (conv && conv.unread > 0 ? conv.readSeq + 1 : null));
  const initialLimit = Math.min(MAX_PAGE, Math.max(PAGE_SIZE, (conv?.unread ?? 0) + 10));

  const messages = useQuery({
    queryKey: chatKeys.messages(conversationId),
    queryFn: async (): Promise<MessagesState> => {
      const page = await api.history(conversationId, { limit: initialLimit });
      const prev = getMessages(qc, conversationId);
      return {
        items: mergeMessages(prev?.items ?? [], page.messages),
        hasOlder: prev ? prev.hasOlder : page.hasMore,
        pending: prev?.pending ?? [],
      };
    },
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 30 * 60_000,
    retry: false,
  });

  const [loadingOlder, setLoadingOlder] = useState(false);
  const loadOlder = useCallback(async () => {
    const state = getMessages(qc, conversationId);
    const oldest = state?.items[0]?.seq;
    if (!state?.hasOlder || oldest === undefined) return;
    setLoadingOlder(true);
    try {
      const page = await api.history(conversationId, { beforeSeq: oldest, limit: PAGE_SIZE });
      setMessages(qc, conversationId, (s) => ({
        ...s,
        items: mergeMessages(s.items, page.messages),
        hasOlder: page.hasMore,
      }));
    } catch (e) {
      console.error("loading older messages failed", e);
    } finally {
      setLoadingOlder(false);
    }
  }, [qc, api, conversationId]);

  const jumpToUnread = useCallback(async () => {
    if (firstUnreadSeq === null) return;
    for (let i = 0; i < 50; i++) {
      const state = getMessages(qc, conversationId);
      const oldest = state?.items[0]?.seq;
      if (!state?.hasOlder || oldest === undefined || oldest <= firstUnreadSeq) return;
      await loadOlder();
    }
  }, [qc, conversationId, firstUnreadSeq, loadOlder]);

  // Delivered as soon as they are on screen; read when seen in a focused window.
  const markRead = useMarkRead();
  const newest = messages.data?.items.at(-1)?.seq ?? 0;
  useEffect(() => {
    if (newest > 0) acks.markDelivered(conversationId, newest);
  }, [newest, acks, conversationId]);
  const onSeen = useCallback((seq: number) => markRead(conversationId, seq), [markRead, conversationId]);
  useEffect(() => () => void acks.flush(), [acks]);

  // Receipts for my own recent messages; refreshed on receipts.changed.
  const ownSeqs = useMemo(
    () => (messages.data?.items ?? []).filter((m) => m.senderId === me.id && m.kind === "text").map((m) => m.seq),
    [messages.data, me.id],
  );
  const toSeq = ownSeqs.at(-1);
  const fromSeq = toSeq === undefined ? undefined : Math.max(ownSeqs.find((s) => s > toSeq - 100) ?? toSeq, 1);
  const receipts = useQuery({
    queryKey: [...chatKeys.receipts(conversationId), fromSeq, toSeq],
    queryFn: () => api.receipts(conversationId, fromSeq!, toSeq!),
    enabled: toSeq !== undefined,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const receiptMap = useMemo(() => new Map((receipts.data ?? []).map((r) => [r.seq, r])), [receipts.data]);

  const { send, retry, discard } = useSendMessage(conversationId);
  const memberCount = conv?.memberCount ?? details.data?.memberCount ?? 0;
  const typing = useTyping(conversationId, memberCount, { id: me.id, name: me.displayName });

  // Screen readers hear messages from others as they arrive.
  const [announcement, setAnnouncement] = useState("");
  const lastAnnounced = useRef(newest);
  useEffect(() => {
    const items = messages.data?.items ?? [];
    const fresh = items.filter((m) => m.seq > lastAnnounced.current && m.senderId !== me.id);
    if (lastAnnounced.current > 0 && fresh.length > 0) {
      const m = fresh[fresh.length - 1]!;
      setAnnouncement(m.kind === "system" ? m.body : `${m.senderName ?? "Someone"}: ${m.body}`);
    }
    lastAnnounced.current = Math.max(lastAnnounced.current, items.at(-1)?.seq ?? 0);
  }, [messages.data, me.id]);

  const kind = conv?.kind ?? details.data?.kind ?? "dm";
  const title = conv?.title ?? details.data?.title ?? "";
  const accessError = details.error ? errorCode(details.error) : null;

  if (accessError === "NOT_FOUND" || accessError === "FORBIDDEN" || accessError === "BAD_REQUEST") {
    return (
      <section className="chat chat-missing" data-testid="chat-missing">
        <ChatBack onBack={() => navigate(null)} />
        <p className="muted">This conversation does not exist, or you are not a member of it.</p>
      </section>
    );
  }

  return (
    <section
      className="chat"
      aria-label={title ? `Conversation with ${title}` : "Conversation"}
      data-testid="chat-window"
    >
      <ChatHeader
        conversationId={conversationId}
        conv={conv}
        title={title}
        kind={kind}
        memberCount={memberCount}
        typingLabel={typing.label}
        avatarUrl={conv?.avatarUrl ?? details.data?.avatarUrl ?? null}
        peerId={conv?.peerId ?? details.data?.peer?.id ?? null}
        onBack={() => navigate(null)}
        onInfo={() => setInfoOpen(true)}
      />
      {details.data?.announcement && (
        <div className="chat-announcement" data-testid="chat-announcement">
          <MegaphoneIcon size={16} /> {details.data.announcement}
        </div>
      )}
      {messages.data ? (
        <MessageList
          state={messages.data}
          meId={me.id}
          isGroup={kind === "group"}
          firstUnreadSeq={firstUnreadSeq}
          receipts={receiptMap}
          loadingOlder={loadingOlder}
          onLoadOlder={() => void loadOlder()}
          onSeen={onSeen}
          onRetry={(p) => void retry(p)}
          onDiscard={discard}
          onJumpToUnread={jumpToUnread}
        />
      ) : messages.error ? (
        <div className="msg-list-wrap chat-note">
          <p className="error" role="alert">
            Could not load messages.{" "}
            <button type="button" className="link-btn" onClick={() => messages.refetch()}>
              Try again
            </button>
          </p>
        </div>
      ) : (
        <div className="msg-list-wrap chat-note">
          <p className="muted">Loading messages…</p>
        </div>
      )}
      <Composer
        conversationId={conversationId}
        onSend={(body) => void send(body)}
        onTyping={typing.notifyTyping}
        onStopTyping={typing.stopTyping}
      />
      <div className="sr-only" aria-live="polite" data-testid="live-region">
        {announcement}
      </div>
      {infoOpen && kind === "group" && (
        <GroupInfoPanel conversationId={conversationId} onClose={() => setInfoOpen(false)} />
      )}
    </section>
  );
}

function ChatBack({ onBack }: { onBack: () => void }) {
  return (
    <button
      type="button"
      className="icon-btn chat-back"
      onClick={onBack}
      aria-label="Back to conversations"
      data-testid="chat-back"
    >
      <BackIcon />
    </button>
  );
}

function ChatHeader({
  conversationId,
  conv,
  title,
  kind,
  memberCount,
  avatarUrl,
  peerId,
  typingLabel,
  onBack,
  onInfo,
}: {
  conversationId: string;
  conv: ConversationItem | null;
  title: string;
  kind: "dm" | "group";
  memberCount: number;
  avatarUrl: string | null;
  peerId: string | null;
  typingLabel: string | null;
  onBack: () => void;
  onInfo: () => void;
}) {
  const { api } = useChat();
  const qc = useQueryClient();
  const [muteError, setMuteError] = useState<string | null>(null);
  const muted = conv?.muted ?? false;

  async function toggleMute() {
    setMuteError(null);
    updateConversation(qc, conversationId, (c) => ({ ...c, muted: !muted }));
    try {
      await api.mute(conversationId, !muted);
    } catch (e) {
      updateConversation(qc, conversationId, (c) => ({ ...c, muted }));
      setMuteError(e instanceof Error ? e.message : "Could not change mute");
    }
  }

  return (
    <header className="chat-header">
      <ChatBack onBack={onBack} />
      <Avatar id={peerId ?? conversationId} name={title || "?"} url={avatarUrl} size={40} decorative />
      <div className="chat-heading">
        <h2 className="chat-title" data-testid="chat-title">
          {title}
        </h2>
        <HeaderStatus
          conversationId={conversationId}
          kind={kind}
          memberCount={memberCount}
          peerId={peerId}
          typingLabel={typingLabel}
        />
      </div>
      <div className="chat-actions">
        {muteError && (
          <span className="error" role="alert">
            {muteError}
          </span>
        )}
        <button
          type="button"
          className="icon-btn"
          onClick={() => void toggleMute()}
          aria-pressed={muted}
          aria-label={muted ? "Unmute conversation" : "Mute conversation"}
          title={muted ? "Unmute" : "Mute"}
          data-testid="mute-toggle"
        >
          {muted ? <BellOffIcon /> : <BellIcon />}
        </button>
        {kind === "group" && (
          <button
            type="button"
            className="icon-btn"
            onClick={onInfo}
            aria-label="Group info"
            title="Group info"
            aria-haspopup="dialog"
            data-testid="group-info-button"
          >
            <InfoIcon />
          </button>
        )}
      </div>
    </header>
  );
}
