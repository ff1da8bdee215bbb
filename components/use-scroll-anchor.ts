"use client";
import type { Virtualizer } from "@tanstack/react-virtual";
import { type RefObject, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { lastSeqOf, type Row } from "./message-rows";

/**
 * Where the message list's view stays while its rows change: at the bottom
 * when it was there (new messages, my own sends, rows measured), at the same
 * distance from the bottom when older pages are prepended, at the first
 * unread on open; counts what arrived below while the reader is up in the
 * history, and loads older pages near the top.
 */
export function useScrollAnchor({
  scrollRef,
  rows,
  virtualizer,
  firstUnreadSeq,
  hasOlder,
  loadingOlder,
  onLoadOlder,
  onJumpToUnread,
  onScrolled,
}: {
  scrollRef: RefObject<HTMLElement | null>;
  rows: Row[];
  virtualizer: Virtualizer<HTMLElement, Element>;
  firstUnreadSeq: number | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  onJumpToUnread: () => Promise<void>;
  /** After every scroll (the list reports what is seen). */
  onScrolled: () => void;
}) {
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
    if (!el || loadingOlder || !hasOlder) return;
    anchorFromBottom.current = el.scrollHeight - el.scrollTop;
    onLoadOlder();
  }, [scrollRef, loadingOlder, hasOlder, onLoadOlder]);

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
  }, [scrollRef, lastKey, lastRow, rows]);

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
    onScrolled();
  }, [scrollRef, loadOlder, onScrolled, rows, virtualizer]);

  // A short first page can leave no scrollbar: fetch more until the view is filled.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && hasOlder && !loadingOlder && el.scrollHeight <= el.clientHeight + 400) loadOlder();
  }, [scrollRef, hasOlder, loadingOlder, loadOlder]);

  const scrollToBottom = () => {
    atBottom.current = true;
    setNewCount(0);
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
    virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
  };

  const jumpToUnread = async () => {
    await onJumpToUnread();
    const index = rows.findIndex((r) => r.type === "unread");
    atBottom.current = false;
    if (index >= 0) virtualizer.scrollToIndex(index, { align: "start" });
  };

  /** Brings one row into view and stops following the bottom. */
  const scrollToRow = useCallback(
    (index: number, align: "start" | "center") => {
      atBottom.current = false;
      virtualizer.scrollToIndex(index, { align });
    },
    [virtualizer],
  );

  return { onScroll, awayFromBottom, newCount, unreadAbove, scrollToBottom, jumpToUnread, scrollToRow };
}
