"use client";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Avatar } from "./avatar";
import type { WireMessage } from "@/server/realtime/events";
import { ConversationNotifications } from "./conversation-notifications";
import { useChat, useConversations, useMarkRead } from "./chat-context";
import {
  applyUnreadToList,
  applyUpdate,
  chatKeys,
  type ConversationItem,
  errorCode,
  errorText,
  getMessages,
  type MessagesState,
  mergeMessages,
  PAGE_SIZE,
  setMessages,
  toggleReactionLocally,
  updateConversation,
} from "./chat-store";
import { ConfirmDialog } from "./dialog";
import { onJumpRequested, takeJump } from "./jump-requests";
import type { MessageActions } from "./message-actions";
import { lastEditable } from "./message-rows";
import { HeaderStatus } from "./chat-presence";
import { Composer, useSendMessage } from "./composer";
import { GroupInfoPanel } from "./group-info-panel";
import { BackIcon, BellIcon, BellOffIcon, InfoIcon, MegaphoneIcon } from "./icons";
import { MessageList } from "./message-list";
import { useTRPC } from "./trpc";
import { useTyping } from "./use-typing";

const MAX_PAGE = 100;

export function ChatWindow({ conversationId }: { conversationId: string }) {
  const { me, api, acks, navigate, localRead } = useChat();
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
        changeSeq: prev ? Math.min(prev.changeSeq, page.changeSeq) : page.changeSeq,
        removedThroughSeq: page.removedThroughSeq,
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
        removedThroughSeq: page.removedThroughSeq,
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

  // Replying, editing, deleting and jumping to a message.
  const [replyTo, setReplyTo] = useState<WireMessage | null>(null);
  const [editing, setEditing] = useState<WireMessage | null>(null);
  const [deleting, setDeleting] = useState<WireMessage | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [focus, setFocus] = useState<{ seq: number; nonce: number } | null>(null);
  const role = details.data?.me.role ?? "member";
  const isGroup = (conv?.kind ?? details.data?.kind) === "group";

  const settle = useCallback(
    (update: Parameters<typeof applyUpdate>[1]) =>
      setMessages(qc, conversationId, (s) => ({ ...s, items: applyUpdate(s.items, update, me.id) })),
    [qc, conversationId, me.id],
  );

  const jumpTo = useCallback(
    async (seq: number) => {
      setFocus({ seq, nonce: Date.now() });
      for (let i = 0; i < 50; i++) {
        const state = getMessages(qc, conversationId);
        const oldest = state?.items[0]?.seq;
        if (!state?.hasOlder || oldest === undefined || oldest <= seq) return;
        await loadOlder();
      }
    },
    [qc, conversationId, loadOlder],
  );

  const actions = useMemo<MessageActions>(
    () => ({
      reply: (m) => {
        setEditing(null);
        setReplyTo(m);
      },
      edit: (m) => {
        setReplyTo(null);
        setEditing(m);
      },
      remove: (m) => {
        setDeleteError(null);
        setDeleting(m);
      },
      react: (m, emoji, on) => {
        setActionError(null);
        setMessages(qc, conversationId, (s) => ({ ...s, items: toggleReactionLocally(s.items, m.seq, emoji, on) }));
        api.react(conversationId, m.seq, emoji, on).then(settle, (e: unknown) => {
          setMessages(qc, conversationId, (s) => ({ ...s, items: toggleReactionLocally(s.items, m.seq, emoji, !on) }));
          setActionError(`Could not react: ${errorText(e)}`);
        });
      },
      copy: (m) => {
        navigator.clipboard?.writeText(m.body).catch((e: unknown) => setActionError(`Could not copy: ${errorText(e)}`));
      },
      markUnread: (m) => {
        setActionError(null);
        // Leave first, and send what was already read: staying would read it again at once.
        navigate(null);
        void (async () => {
          await acks.flush();
          const r = await api.markUnread(conversationId, m.seq);
          localRead.set(conversationId, r.readSeq);
          applyUnreadToList(qc, conversationId, r.readSeq);
          // Tombstones after the new position leave the count: the server's is exact.
          await qc.invalidateQueries({ queryKey: chatKeys.conversations() });
        })().catch((e: unknown) => console.error("mark unread failed", e));
      },
      canDelete: (m) => m.kind === "text" && (m.senderId === me.id || (isGroup && role !== "member")),
      jumpTo: (seq) => void jumpTo(seq),
      reactors: async (m, emoji) => (await api.reactors(conversationId, m.seq, emoji)).users.map((u) => u.displayName),
      removePreview: (m) => {
        setActionError(null);
        api
          .removePreview(conversationId, m.seq)
          .catch((e: unknown) => setActionError(`Could not remove the preview: ${errorText(e)}`));
      },
    }),
    [qc, api, acks, conversationId, settle, localRead, navigate, me.id, isGroup, role, jumpTo],
  );

  // A jump asked for from the mentions view: now if this chat is open, or once it has loaded.
  const loaded = Boolean(messages.data);
  useEffect(() => {
    if (!loaded) return;
    const waiting = takeJump(conversationId);
    if (waiting !== null) void jumpTo(waiting);
    return onJumpRequested((id) => {
      if (id !== conversationId) return;
      const seq = takeJump(id);
      if (seq !== null) void jumpTo(seq);
    });
  }, [loaded, conversationId, jumpTo]);

  const saveEdit = (body: string) => {
    const target = editing;
    setEditing(null);
    if (!target || body === target.body) return;
    setActionError(null);
    api
      .edit(conversationId, target.seq, body)
      .then(settle, (e: unknown) => setActionError(`Not saved: ${errorText(e)}`));
  };

  const confirmDelete = async () => {
    if (!deleting) return;
    setDeleteBusy(true);
    try {
      settle(await api.remove(conversationId, deleting.seq));
      if (replyTo?.seq === deleting.seq) setReplyTo(null);
      if (editing?.seq === deleting.seq) setEditing(null);
      setDeleting(null);
    } catch (e) {
      setDeleteError(errorText(e));
    } finally {
      setDeleteBusy(false);
    }
  };
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
          actions={actions}
          focus={focus}
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
      {actionError && (
        <p className="error chat-action-error" role="alert" data-testid="action-error">
          {actionError}
        </p>
      )}
      <Composer
        conversationId={conversationId}
        onSend={(body, attachments) => {
          void send(body, replyTo, attachments);
          setReplyTo(null);
        }}
        onEdit={saveEdit}
        onEditLast={() => {
          const last = lastEditable(messages.data?.items ?? [], me.id);
          if (last) actions.edit(last);
        }}
        onCancel={() => {
          setEditing(null);
          setReplyTo(null);
        }}
        replyTo={replyTo}
        editing={editing}
        onTyping={typing.notifyTyping}
        onStopTyping={typing.stopTyping}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete message?"
        message="It will be deleted for everyone in this conversation. This cannot be undone."
        confirmLabel="Delete"
        danger
        pending={deleteBusy}
        error={deleteError}
        onConfirm={() => void confirmDelete()}
        onCancel={() => setDeleting(null)}
        testId="confirm-delete"
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
    const before = conv?.notifications;
    updateConversation(qc, conversationId, (c) => ({ ...c, muted: !muted }));
    try {
      await api.mute(conversationId, !muted);
      // The level in force after unmuting depends on defaults: ask for it.
      const { me } = await api.getConversation(conversationId);
      updateConversation(qc, conversationId, (c) => ({ ...c, muted: me.muted, notifications: me.notifications }));
    } catch (e) {
      updateConversation(qc, conversationId, (c) => ({ ...c, muted, ...(before ? { notifications: before } : {}) }));
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
        {conv && <ConversationNotifications conv={conv} />}
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
