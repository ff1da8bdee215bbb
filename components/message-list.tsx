"use client";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { WireMessage } from "@/server/realtime/events";
import { Avatar } from "./avatar";
import type { Receipt } from "./chat-api";
import type { MessagesState, PendingMessage } from "./chat-store";
import { dayKey, dayLabel, timeOfDay } from "./format";
import { ArrowDownIcon, CheckIcon, ClockIcon, DoubleCheckIcon } from "./icons";

type Row =
  | { type: "older"; key: string }
  | { type: "day"; key: string; label: string }
  | { type: "unread"; key: string }
  | { type: "message"; key: string; m: WireMessage; own: boolean; runStart: boolean }
  | { type: "pending"; key: string; p: PendingMessage };

// Consecutive messages from one sender within this window share one name and avatar.
const RUN_GAP_MS = 5 * 60_000;

function buildRows(state: MessagesState, meId: string, firstUnreadSeq: number | null, loadingOlder: boolean): Row[] {
  const rows: Row[] = [];
  if (state.hasOlder || loadingOlder) rows.push({ type: "older", key: "older" });
  let lastDay = "";
  let prev: WireMessage | null = null;
  for (const m of state.items) {
    const day = dayKey(m.createdAt);
    if (day !== lastDay) {
      rows.push({ type: "day", key: `day:${day}`, label: dayLabel(m.createdAt) });
      lastDay = day;
      prev = null;
    }
    if (firstUnreadSeq !== null && m.seq === firstUnreadSeq) {
      rows.push({ type: "unread", key: "unread" });
      prev = null;
    }
    const runStart =
      !prev ||
      prev.kind === "system" ||
      prev.senderId !== m.senderId ||
      Date.parse(m.createdAt) - Date.parse(prev.createdAt) > RUN_GAP_MS;
    rows.push({ type: "message", key: `m:${m.seq}`, m, own: m.senderId === meId, runStart });
    prev = m;
  }
  const today = dayKey(new Date().toISOString());
  if (state.pending.length > 0 && lastDay !== today) {
    rows.push({ type: "day", key: `day:${today}`, label: "Today" });
  }
  for (const p of state.pending) rows.push({ type: "pending", key: `p:${p.clientMsgId}`, p });
  return rows;
}

function estimate(row: Row | undefined): number {
  if (!row) return 48;
  if (row.type === "day" || row.type === "unread" || row.type === "older") return 40;
  if (row.type === "message") return (row.runStart ? 64 : 44) + Math.floor(row.m.body.length / 60) * 20;
  return 64;
}

export type MessageListProps = {
  state: MessagesState;
  meId: string;
  isGroup: boolean;
  firstUnreadSeq: number | null;
  receipts: Map<number, Receipt>;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  /** Called with the newest seq the user can see (focused, visible window). */
  onSeen: (seq: number) => void;
  onRetry: (p: PendingMessage) => void;
  onDiscard: (p: PendingMessage) => void;
  /** Loads history back to the first unread when it is not loaded yet. */
  onJumpToUnread: () => Promise<void>;
};

export function MessageList(props: MessageListProps) {
  const { state, meId, isGroup, firstUnreadSeq, receipts, loadingOlder, onLoadOlder, onSeen } = props;
  const scrollRef = useRef<HTMLElement>(null);
  const rows = useMemo(
    () => buildRows(state, meId, firstUnreadSeq, loadingOlder),
    [state, meId, firstUnreadSeq, loadingOlder],
  );
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimate(rows[i]),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 10,
  });

  const atBottom = useRef(firstUnreadSeq === null);
  const [awayFromBottom, setAwayFromBottom] = useState(false);
  const [newCount, setNewCount] = useState(0);
  const [unreadAbove, setUnreadAbove] = useState(false);

  // Older pages are prepended: keep the distance from the bottom so the view does not jump.
  const anchorFromBottom = useRef<number | null>(null);
  const firstMessageKey = rows.find((r) => r.type === "message")?.key ?? null;
  const prevFirstMessageKey = useRef(firstMessageKey);

  const loadOlder = useCallback(() => {
    const el = scrollRef.current;
    if (!el || loadingOlder || !state.hasOlder) return;
    anchorFromBottom.current = el.scrollHeight - el.scrollTop;
    onLoadOlder();
  }, [loadingOlder, state.hasOlder, onLoadOlder]);

  const reportSeen = useCallback(() => {
    const el = scrollRef.current;
    if (!el || document.visibilityState !== "visible" || !document.hasFocus()) return;
    const bottom = el.scrollTop + el.clientHeight;
    let seen = 0;
    for (const item of virtualizer.getVirtualItems()) {
      const row = rows[item.index];
      if (row?.type === "message" && item.start < bottom - 8) seen = Math.max(seen, row.m.seq);
    }
    if (seen > 0) onSeen(seen);
  }, [virtualizer, rows, onSeen]);

  const totalSize = virtualizer.getTotalSize();
  const lastRow = rows.at(-1);
  const lastKey = lastRow?.key;
  const prevLast = useRef<{ key: string | undefined; seq: number }>({ key: lastKey, seq: lastSeqOf(rows) });

  // biome-ignore lint/correctness/useExhaustiveDependencies: totalSize changes when rows are measured; the view must follow.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    if (firstMessageKey !== prevFirstMessageKey.current) {
      prevFirstMessageKey.current = firstMessageKey;
      if (anchorFromBottom.current !== null) {
        el.scrollTop = el.scrollHeight - anchorFromBottom.current;
        anchorFromBottom.current = null;
        return;
      }
    }
    if (atBottom.current) el.scrollTop = el.scrollHeight;
  }, [firstMessageKey, totalSize]);

  // New rows at the end: follow them when at the bottom (or when it is my own send), else count them for the pill.
  useLayoutEffect(() => {
    const before = prevLast.current;
    const seq = lastSeqOf(rows);
    prevLast.current = { key: lastKey, seq };
    if (lastKey === before.key) return;
    const el = scrollRef.current;
    if (lastRow?.type === "pending") atBottom.current = true;
    if (atBottom.current) {
      if (el) el.scrollTop = el.scrollHeight;
      return;
    }
    const arrived = rows.filter((r) => r.type === "message" && r.m.seq > before.seq && !r.own).length;
    if (arrived > 0) setNewCount((n) => n + arrived);
  }, [lastKey, lastRow, rows]);

  // Open at the first unread message, once.
  const positioned = useRef(false);
  useLayoutEffect(() => {
    if (positioned.current) return;
    positioned.current = true;
    const index = rows.findIndex((r) => r.type === "unread");
    if (index >= 0) virtualizer.scrollToIndex(index, { align: "start" });
    else atBottom.current = true;
  }, [rows, virtualizer]);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 64;
    atBottom.current = bottom;
    setAwayFromBottom(!bottom);
    if (bottom) setNewCount(0);
    if (el.scrollTop < 400) loadOlder();
    const unreadIndex = rows.findIndex((r) => r.type === "unread");
    const first = virtualizer.getVirtualItems()[0];
    setUnreadAbove(unreadIndex >= 0 && first !== undefined && unreadIndex < first.index);
    reportSeen();
  }, [loadOlder, reportSeen, rows, virtualizer]);

  useEffect(() => {
    reportSeen();
  }, [reportSeen]);

  useEffect(() => {
    window.addEventListener("focus", reportSeen);
    document.addEventListener("visibilitychange", reportSeen);
    return () => {
      window.removeEventListener("focus", reportSeen);
      document.removeEventListener("visibilitychange", reportSeen);
    };
  }, [reportSeen]);

  // A short first page can leave no scrollbar: fetch more until the view is filled.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && state.hasOlder && !loadingOlder && el.scrollHeight <= el.clientHeight + 400) loadOlder();
  }, [state.hasOlder, loadingOlder, loadOlder]);

  const scrollToBottom = () => {
    atBottom.current = true;
    setNewCount(0);
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
    virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
  };

  const jumpToUnread = async () => {
    await props.onJumpToUnread();
    const index = rows.findIndex((r) => r.type === "unread");
    atBottom.current = false;
    if (index >= 0) virtualizer.scrollToIndex(index, { align: "start" });
  };

  return (
    <div className="msg-list-wrap">
      <section
        className="msg-scroll"
        ref={scrollRef}
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: keyboard users scroll the history with the arrow keys
        tabIndex={0}
        aria-label="Messages"
        data-testid="message-list"
      >
        <div className="msg-inner" style={{ height: totalSize }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="msg-slot"
                style={{ transform: `translateY(${item.start}px)` }}
              >
                {renderRow(row, props, isGroup, receipts)}
              </div>
            );
          })}
        </div>
      </section>
      {(firstUnreadSeq !== null && unreadAbove) ||
      (firstUnreadSeq !== null && state.items[0] && state.items[0].seq > firstUnreadSeq) ? (
        <button type="button" className="pill pill-top" onClick={() => void jumpToUnread()} data-testid="jump-unread">
          ↑ Jump to first unread
        </button>
      ) : null}
      {awayFromBottom && (
        <button type="button" className="pill pill-bottom" onClick={scrollToBottom} data-testid="new-messages-pill">
          {newCount > 0 ? `${newCount} new message${newCount === 1 ? "" : "s"}` : "Latest"} <ArrowDownIcon size={14} />
        </button>
      )}
    </div>
  );
}

function lastSeqOf(rows: Row[]): number {
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i];
    if (r?.type === "message") return r.m.seq;
  }
  return 0;
}

function renderRow(row: Row, props: MessageListProps, isGroup: boolean, receipts: Map<number, Receipt>): ReactNode {
  switch (row.type) {
    case "older":
      return (
        <div className="msg-older muted" role="status">
          {props.loadingOlder ? "Loading earlier messages…" : "Scroll up for earlier messages"}
        </div>
      );
    case "day":
      return (
        <div className="day-sep" data-testid="day-separator">
          <span>{row.label}</span>
        </div>
      );
    case "unread":
      return (
        <div className="unread-sep" data-testid="unread-divider">
          <span>Unread messages</span>
        </div>
      );
    case "message":
      if (row.m.kind === "system") {
        return (
          <div className="msg-system" data-testid="system-message" data-seq={row.m.seq}>
            <span>
              <MessageText body={row.m.body} />
            </span>
          </div>
        );
      }
      return (
        <MessageBubble
          m={row.m}
          own={row.own}
          runStart={row.runStart}
          isGroup={isGroup}
          receipt={receipts.get(row.m.seq) ?? null}
        />
      );
    case "pending":
      return <PendingBubble p={row.p} onRetry={props.onRetry} onDiscard={props.onDiscard} />;
  }
}

function MessageBubble({
  m,
  own,
  runStart,
  isGroup,
  receipt,
}: {
  m: WireMessage;
  own: boolean;
  runStart: boolean;
  isGroup: boolean;
  receipt: Receipt | null;
}) {
  const showSender = isGroup && !own && runStart;
  const status = own ? statusOf(receipt, isGroup) : null;
  return (
    <div
      className={`msg-row${own ? " own" : ""}${runStart ? " run-start" : ""}`}
      data-testid="message"
      data-seq={m.seq}
      data-own={own}
      data-status={status?.status}
    >
      {isGroup && !own && (
        <span className="msg-avatar">
          {runStart && (
            <Avatar id={m.senderId ?? m.id} name={m.senderName ?? "?"} url={m.senderAvatarUrl} size={32} decorative />
          )}
        </span>
      )}
      <div className="bubble">
        {showSender && (
          <div className="msg-sender" data-testid="message-sender">
            {m.senderName ?? "Unknown"}
          </div>
        )}
        <div className="msg-body" data-testid="message-body">
          <MessageText body={m.body} />
        </div>
        <div className="msg-meta">
          <time dateTime={m.createdAt} title={new Date(m.createdAt).toLocaleString()}>
            {timeOfDay(m.createdAt)}
          </time>
          {status && <StatusMark status={status} />}
        </div>
      </div>
    </div>
  );
}

type Status = { status: "sent" | "delivered" | "read"; readBy: number; names: string[] | null };

function statusOf(receipt: Receipt | null, isGroup: boolean): Status {
  if (!receipt) return { status: "sent", readBy: 0, names: null };
  const names = receipt.readers?.map((r) => r.name) ?? null;
  if (isGroup) {
    const status =
      receipt.recipients > 0 && receipt.read >= receipt.recipients
        ? "read"
        : receipt.delivered > 0
          ? "delivered"
          : "sent";
    return { status, readBy: receipt.read, names };
  }
  const status = receipt.read > 0 ? "read" : receipt.delivered > 0 ? "delivered" : "sent";
  return { status, readBy: 0, names: null };
}

function StatusMark({ status }: { status: Status }) {
  const label = status.status === "read" ? "Read" : status.status === "delivered" ? "Delivered" : "Sent";
  return (
    <>
      {status.readBy > 0 && (
        <span className="read-by" data-testid="read-by" title={status.names?.join(", ")}>
          Read by {status.readBy}
        </span>
      )}
      <span
        className={`ticks ticks-${status.status}`}
        data-testid="message-status"
        data-status={status.status}
        role="img"
        aria-label={label}
        title={label}
      >
        {status.status === "sent" ? <CheckIcon size={14} /> : <DoubleCheckIcon size={17} />}
      </span>
    </>
  );
}

function PendingBubble({
  p,
  onRetry,
  onDiscard,
}: {
  p: PendingMessage;
  onRetry: (p: PendingMessage) => void;
  onDiscard: (p: PendingMessage) => void;
}) {
  const failed = p.status === "failed";
  return (
    <div
      className={`msg-row own${failed ? " failed" : " pending"}`}
      data-testid="message"
      data-pending="true"
      data-status={failed ? "failed" : "pending"}
      data-client-msg-id={p.clientMsgId}
    >
      <div className="bubble">
        <div className="msg-body" data-testid="message-body">
          <MessageText body={p.body} />
        </div>
        <div className="msg-meta">
          {failed ? (
            <span className="msg-failed" role="alert" data-testid="message-error">
              Not sent{p.error ? `: ${p.error}` : ""}
            </span>
          ) : (
            <span
              className="ticks ticks-pending"
              data-testid="message-status"
              data-status="pending"
              role="img"
              aria-label="Sending"
              title="Sending"
            >
              <ClockIcon size={13} />
            </span>
          )}
        </div>
        {failed && (
          <div className="msg-actions">
            <button type="button" className="link-btn" onClick={() => onRetry(p)} data-testid="retry-send">
              Retry
            </button>
            <button type="button" className="link-btn" onClick={() => onDiscard(p)} data-testid="discard-send">
              Discard
            </button>
          </div>
        )}
      </div>
    </div>
  );
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** Message text as TEXT: React escapes it; only http(s) URLs become links. */
export function MessageText({ body }: { body: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    let url = match[0];
    // Trailing punctuation usually ends the sentence, not the URL.
    const trimmed = url.replace(/[.,;:!?)\]}]+$/, "");
    url = trimmed;
    const start = match.index ?? 0;
    const safe = safeHref(url);
    if (!safe) continue;
    if (start > last) parts.push(body.slice(last, start));
    parts.push(
      <a key={`${start}`} href={safe} target="_blank" rel="noopener noreferrer nofollow ugc">
        {url}
      </a>,
    );
    last = start + url.length;
  }
  if (last < body.length) parts.push(body.slice(last));
  return <>{parts}</>;
}

function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}
