"use client";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { Receipt } from "./chat-api";
import type { MessagesState, PendingMessage } from "./chat-store";
import { ArrowDownIcon } from "./icons";
import type { MessageActions } from "./message-actions";
import { MessageBubble, PendingBubble } from "./message-bubble";
import { buildRows, estimateRow, lastSeqOf, type Row } from "./message-rows";
import { MessageText } from "./message-text";

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
  actions: MessageActions;
  /** A message to bring into view and highlight (a reply's original, a mention); the nonce repeats a jump. */
  focus: { seq: number; nonce: number } | null;
};

export function MessageList(props: MessageListProps) {
  const { state, meId, firstUnreadSeq, loadingOlder, onLoadOlder, onSeen, focus } = props;
  const scrollRef = useRef<HTMLElement>(null);
  const rows = useMemo(
    () => buildRows(state, meId, firstUnreadSeq, loadingOlder),
    [state, meId, firstUnreadSeq, loadingOlder],
  );
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimateRow(rows[i]),
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

  // A jump to one message: once its row exists, scroll it to the middle and highlight it briefly.
  const [highlightSeq, setHighlightSeq] = useState<number | null>(null);
  const handledFocus = useRef<number | null>(null);
  useEffect(() => {
    if (!focus || handledFocus.current === focus.nonce) return;
    const index = rows.findIndex((r) => r.type === "message" && r.m.seq === focus.seq);
    if (index < 0) return;
    handledFocus.current = focus.nonce;
    atBottom.current = false;
    virtualizer.scrollToIndex(index, { align: "center" });
    setHighlightSeq(focus.seq);
  }, [focus, rows, virtualizer]);
  useEffect(() => {
    if (highlightSeq === null) return;
    const timer = setTimeout(() => setHighlightSeq(null), 2500);
    return () => clearTimeout(timer);
  }, [highlightSeq]);

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
                {renderRow(row, props, highlightSeq)}
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

function renderRow(row: Row, props: MessageListProps, highlightSeq: number | null): ReactNode {
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
          isGroup={props.isGroup}
          receipt={props.receipts.get(row.m.seq) ?? null}
          actions={props.actions}
          highlighted={highlightSeq === row.m.seq}
        />
      );
    case "pending":
      return <PendingBubble p={row.p} onRetry={props.onRetry} onDiscard={props.onDiscard} />;
  }
}
