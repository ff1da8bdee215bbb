"use client";
import { signOut } from "next-auth/react";
import Link from "next/link";
import { type KeyboardEvent, type MouseEvent, useMemo, useRef, useState } from "react";
import { Avatar, type PresenceStatus } from "./avatar";
import type { ChatApi } from "./chat-api";
import { useChat, useConversations } from "./chat-context";
import { type ConversationItem, sortConversations } from "./chat-store";
import { listTime } from "./format";
import { BellIcon, BellOffIcon, LogOutIcon } from "./icons";
import { MentionsButton } from "./mentions-view";
import { NotificationSettingsDialog } from "./notification-settings";
import { turnPushOff } from "./push-client";
import { NewChatDialog } from "./new-chat-dialog";
import { type ManualStatus, useMyStatus, usePresence } from "./use-presence";

export function ConversationList() {
  const { me, api, activeId, navigate } = useChat();
  const list = useConversations();
  const [filter, setFilter] = useState("");
  const [newChatOpen, setNewChatOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const listRef = useRef<HTMLUListElement>(null);

  const peerIds = useMemo(() => (list.data ?? []).flatMap((c) => (c.peerId ? [c.peerId] : [])), [list.data]);
  const presence = usePresence(peerIds);
  const items = useMemo(() => {
    const sorted = sortConversations(list.data ?? []);
    const q = filter.trim().toLowerCase();
    return q ? sorted.filter((c) => c.title.toLowerCase().includes(q)) : sorted;
  }, [list.data, filter]);

  function onKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const links = Array.from(listRef.current?.querySelectorAll<HTMLAnchorElement>("a.conv-item") ?? []);
    const index = links.indexOf(document.activeElement as HTMLAnchorElement);
    let next = -1;
    if (event.key === "ArrowDown") next = Math.min(links.length - 1, index + 1);
    else if (event.key === "ArrowUp") next = Math.max(0, index - 1);
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = links.length - 1;
    if (next < 0 || !links[next]) return;
    event.preventDefault();
    links[next].focus();
  }

  function open(event: MouseEvent<HTMLAnchorElement>, id: string) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(id);
  }

  return (
    <aside className="sidebar" aria-label="Conversations" data-testid="conversation-sidebar">
      <header className="sidebar-header">
        <Avatar id={me.id} name={me.displayName} url={me.avatarUrl} size={32} decorative />
        <div className="sidebar-me">
          <strong data-testid="me-name">{me.displayName}</strong>
          <MyStatus username={me.username} />
        </div>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => setNewChatOpen(true)}
          data-testid="new-chat-button"
          aria-haspopup="dialog"
        >
          New chat
        </button>
        <MentionsButton />
        <button
          type="button"
          className="icon-btn"
          onClick={() => setSettingsOpen(true)}
          aria-label="Notification settings"
          title="Notifications"
          aria-haspopup="dialog"
          data-testid="notification-settings-button"
        >
          <BellIcon />
        </button>
        <Link href="/profile" className="btn btn-small btn-ghost" data-testid="profile-link">
          Profile
        </Link>
        <button
          type="button"
          className="icon-btn"
          onClick={() => window.dispatchEvent(new Event("chorus:search"))}
          aria-label="Search messages"
          title="Search messages (Ctrl+K or /)"
          aria-haspopup="dialog"
          data-testid="search-button"
        >
          🔍
        </button>
        <button
          type="button"
          className="icon-btn"
          onClick={() => void signOutHere(api)}
          aria-label="Sign out"
          title="Sign out"
          data-testid="sign-out"
        >
          <LogOutIcon />
        </button>
      </header>
      <div className="sidebar-search">
        <input
          type="search"
          placeholder="Search conversations"
          aria-label="Search conversations"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          data-testid="conversation-filter"
        />
      </div>
      {list.isPending ? (
        <p className="muted sidebar-note">Loading conversations…</p>
      ) : list.error ? (
        <p className="error sidebar-note" role="alert">
          Could not load conversations.{" "}
          <button type="button" className="link-btn" onClick={() => list.refetch()}>
            Try again
          </button>
        </p>
      ) : items.length === 0 ? (
        <p className="muted sidebar-note" data-testid="empty-state">
          {filter ? "No conversation matches." : "No conversations yet. Start one with New chat."}
        </p>
      ) : (
        <ul className="conv-list" ref={listRef} onKeyDown={onKeyDown} data-testid="conversation-list">
          {items.map((c) => (
            <li key={c.id}>
              <ConversationRow
                c={c}
                active={c.id === activeId}
                meId={me.id}
                onOpen={open}
                presence={c.peerId ? (presence.get(c.peerId)?.status ?? null) : null}
              />
            </li>
          ))}
        </ul>
      )}
      <NotificationSettingsDialog open={settingsOpen} onClose={() => setSettingsOpen(false)} />
      <NewChatDialog open={newChatOpen} onClose={() => setNewChatOpen(false)} onOpened={(id) => navigate(id)} />
    </aside>
  );
}

/** Signing out stops this device's pushes first: a shared computer must not keep showing the last user's messages. */
async function signOutHere(api: ChatApi) {
  try {
    await turnPushOff(api.push);
  } catch (error) {
    console.warn("push not turned off before signing out", error);
  }
  await signOut({ callbackUrl: "/sign-in" });
}

/** The user's own status: automatic (online/away from activity), or busy/away/online by choice. */
function MyStatus({ username }: { username: string }) {
  const { status, setStatus } = useMyStatus();
  return (
    <span className="my-status">
      <span className="muted">@{username}</span>
      <select
        aria-label="Your status"
        value={status ?? "auto"}
        onChange={(e) => setStatus(e.target.value === "auto" ? null : (e.target.value as ManualStatus))}
        data-testid="my-status"
      >
        <option value="auto">Automatic</option>
        <option value="online">Online</option>
        <option value="away">Away</option>
        <option value="busy">Busy</option>
      </select>
    </span>
  );
}

function ConversationRow({
  c,
  active,
  meId,
  onOpen,
  presence,
}: {
  c: ConversationItem;
  presence: PresenceStatus | null;
  active: boolean;
  meId: string;
  onOpen: (event: MouseEvent<HTMLAnchorElement>, id: string) => void;
}) {
  // "You: …" / "Bob: …" in groups; system lines already start with who did it.
  const startsWithName = Boolean(c.previewSenderName && c.preview?.startsWith(`${c.previewSenderName} `));
  const prefix =
    !c.preview || startsWithName
      ? ""
      : c.previewSenderId === meId
        ? "You: "
        : c.kind === "group" && c.previewSenderName
          ? `${c.previewSenderName}: `
          : "";
  // The link's name is its visible text (WCAG 2.5.3, label in name), with what only icons and colour show
  // spelled out for screen readers alongside.
  const preview = c.preview
    ? `${prefix}${c.preview}`
    : c.lastSeq > 0 && c.lastMessageAt
      ? "This message was deleted"
      : c.kind === "group"
        ? `${c.memberCount} members`
        : "Say hello";
  return (
    <a
      href={`/c/${c.id}`}
      className={`conv-item${active ? " active" : ""}${c.unread > 0 ? " has-unread" : ""}`}
      aria-current={active ? "page" : undefined}
      onClick={(e) => onOpen(e, c.id)}
      data-testid="conversation-item"
      data-conversation-id={c.id}
      data-title={c.title}
    >
      <Avatar id={c.peerId ?? c.id} name={c.title} url={c.avatarUrl} size={44} presence={presence} decorative />
      <span className="conv-main">
        <span className="conv-top">
          <span className="conv-title" data-testid="conversation-title">
            {c.title}
          </span>
          {presence && presence !== "offline" && <span className="sr-only">, {presence}</span>}
          {c.muted && (
            <span className="conv-muted" title="Muted" data-testid="muted-icon">
              <BellOffIcon size={14} />
            </span>
          )}
          {c.muted && <span className="sr-only">, muted</span>}
          <time className="conv-time" dateTime={c.lastMessageAt ?? undefined}>
            {c.lastMessageAt ? listTime(c.lastMessageAt) : ""}
          </time>
        </span>
        <span className="conv-bottom">
          <span className="conv-preview" data-testid="conversation-preview">
            {preview}
          </span>
          {c.mentions > 0 && (
            <span className="mention-marker" title="You were mentioned" data-testid="mention-marker">
              @
            </span>
          )}
          {c.mentions > 0 && <span className="sr-only">, mentioned you</span>}
          {c.unread > 0 && (
            <span className={`unread-badge${c.muted ? " muted-badge" : ""}`} data-testid="unread-badge">
              {c.unread > 999 ? "999+" : c.unread}
            </span>
          )}
          {c.unread > 0 && <span className="sr-only"> unread</span>}
        </span>
      </span>
    </a>
  );
}
