"use client";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Receipt } from "./chat-api";
import type { MessagesState, PendingMessage } from "./chat-store";
import { ArrowDownIcon } from "./icons";
import type { MessageActions } from "./message-actions";
import { MessageBubble, PendingBubble } from "./message-bubble";
import { buildRows, estimateRow, type Row } from "./message-rows";
import { MessageText } from "./message-text";
import { useScrollAnchor } from "./use-scroll-anchor";

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

  const scroll = useScrollAnchor({
    scrollRef,
    rows,
    virtualizer,
    firstUnreadSeq,
    hasOlder: state.hasOlder,
    loadingOlder,
    onLoadOlder,
    onJumpToUnread: props.onJumpToUnread,
    onScrolled: reportSeen,
  });
  const { onScroll, awayFromBottom, newCount, unreadAbove, scrollToBottom, jumpToUnread, scrollToRow } = scroll;
  const totalSize = virtualizer.getTotalSize();

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
    scrollToRow(index, "center");
    setHighlightSeq(focus.seq);
  }, [focus, rows, scrollToRow]);
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
    case "removed":
      return (
        <div className="msg-older muted" role="note" data-testid="history-removed">
          Older messages were removed by this server's retention policy
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
