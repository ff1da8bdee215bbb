"use client";
import {
  EmojiPicker,
  type EmojiPickerListCategoryHeaderProps,
  type EmojiPickerListEmojiProps,
  type EmojiPickerListRowProps,
} from "frimousse";
import { type CSSProperties, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import type { WireMessage } from "@/server/realtime/events";
import { Dialog } from "./dialog";
import { QUICK_REACTIONS, resolveEmojiData } from "./emoji-data";

/** What a message row can ask of its conversation; the chat window carries them out. */
export type MessageActions = {
  reply: (m: WireMessage) => void;
  edit: (m: WireMessage) => void;
  /** Asks for confirmation first. */
  remove: (m: WireMessage) => void;
  react: (m: WireMessage, emoji: string, on: boolean) => void;
  copy: (m: WireMessage) => void;
  markUnread: (m: WireMessage) => void;
  canDelete: (m: WireMessage) => boolean;
  /** Scrolls to a message, loading history back to it when needed. */
  jumpTo: (seq: number) => void;
  /** Who reacted with one emoji (first names), for the chip's tooltip. */
  reactors: (m: WireMessage, emoji: string) => Promise<string[]>;
  /** The sender takes the link preview off their message. */
  removePreview: (m: WireMessage) => void;
};

const LONG_PRESS_MS = 500;

/**
 * The "⋯" button of a message (shown on hover and keyboard focus, or a long
 * press on touch) and the menu it opens: quick reactions, more reactions,
 * reply, edit, delete, copy, mark unread. Arrow keys move, Esc closes.
 */
export function MessageActionsMenu({
  m,
  own,
  actions,
  longPressTarget,
}: {
  m: WireMessage;
  own: boolean;
  actions: MessageActions;
  longPressTarget: React.RefObject<HTMLElement | null>;
}) {
  const [open, setOpen] = useState(false);
  const [picking, setPicking] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  // Long press on touch opens the menu; a scroll (pointer moved or cancelled) does not.
  useEffect(() => {
    const el = longPressTarget.current;
    if (!el) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const cancel = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
    const down = (e: PointerEvent) => {
      if (e.pointerType !== "touch") return;
      cancel();
      timer = setTimeout(() => setOpen(true), LONG_PRESS_MS);
    };
    el.addEventListener("pointerdown", down);
    el.addEventListener("pointerup", cancel);
    el.addEventListener("pointermove", cancel);
    el.addEventListener("pointercancel", cancel);
    return () => {
      cancel();
      el.removeEventListener("pointerdown", down);
      el.removeEventListener("pointerup", cancel);
      el.removeEventListener("pointermove", cancel);
      el.removeEventListener("pointercancel", cancel);
    };
  }, [longPressTarget]);

  // The menu floats above the list (a portal, fixed): above the button when there is room, else below it,
  // following the button when the list scrolls or re-measures under it.
  const [place, setPlace] = useState<CSSProperties>({ visibility: "hidden" });
  useLayoutEffect(() => {
    if (!open) return;
    const position = () => {
      const button = trigger.current?.getBoundingClientRect();
      const box = menu.current;
      if (!button || !box) return;
      const gap = 4;
      const height = box.offsetHeight;
      const width = box.offsetWidth;
      const top = button.top - height - gap >= 8 ? button.top - height - gap : button.bottom + gap;
      const left = own ? button.right - width : button.left;
      setPlace({
        top: Math.max(8, Math.min(top, window.innerHeight - height - 8)),
        left: Math.max(8, Math.min(left, window.innerWidth - width - 8)),
      });
    };
    position();
    const outside = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !trigger.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    document.addEventListener("scroll", position, true);
    window.addEventListener("resize", position);
    return () => {
      document.removeEventListener("pointerdown", outside);
      document.removeEventListener("scroll", position, true);
      window.removeEventListener("resize", position);
      setPlace({ visibility: "hidden" });
    };
  }, [open, own]);

  // Focus moves into the menu once it is placed (a hidden element cannot take focus).
  const placed = place.visibility !== "hidden";
  useEffect(() => {
    if (open && placed) menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open, placed]);

  const close = (refocus = true) => {
    setOpen(false);
    if (refocus) trigger.current?.focus();
  };
  const run = (action: () => void) => () => {
    close(false);
    action();
  };

  const onMenuKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = Array.from(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === "ArrowDown" || e.key === "ArrowRight") {
      e.preventDefault();
      items[(at + 1) % items.length]?.focus();
    } else if (e.key === "ArrowUp" || e.key === "ArrowLeft") {
      e.preventDefault();
      items[(at - 1 + items.length) % items.length]?.focus();
    } else if (e.key === "Home") {
      e.preventDefault();
      items[0]?.focus();
    } else if (e.key === "End") {
      e.preventDefault();
      items.at(-1)?.focus();
    } else if (e.key === "Tab") {
      close(false);
    }
  };

  const mine = new Set((m.reactions ?? []).filter((r) => r.me).map((r) => r.emoji));
  const who = own ? "your message" : `message from ${m.senderName ?? "someone"}`;
  return (
    <div className="msg-actions-anchor">
      <button
        ref={trigger}
        type="button"
        className={`icon-btn msg-actions-trigger${open ? " open" : ""}`}
        aria-label={`Actions for ${who}`}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((v) => !v)}
        data-testid="message-actions"
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open &&
        createPortal(
          <div
            ref={menu}
            className={`msg-menu${own ? " own" : ""}`}
            style={place}
            role="menu"
            aria-label={`Actions for ${who}`}
            onKeyDown={onMenuKey}
            data-testid="message-menu"
          >
            <div className="msg-menu-reactions">
              {QUICK_REACTIONS.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  role="menuitem"
                  className={`msg-menu-emoji${mine.has(emoji) ? " me" : ""}`}
                  aria-label={mine.has(emoji) ? `Remove reaction ${emoji}` : `React with ${emoji}`}
                  onClick={run(() => actions.react(m, emoji, !mine.has(emoji)))}
                  data-testid="quick-reaction"
                >
                  {emoji}
                </button>
              ))}
              <button
                type="button"
                role="menuitem"
                className="msg-menu-emoji"
                aria-label="More reactions"
                onClick={() => {
                  close(false);
                  setPicking(true);
                }}
                data-testid="more-reactions"
              >
                <span aria-hidden="true">＋</span>
              </button>
            </div>
            <MenuItem label="Reply" onClick={run(() => actions.reply(m))} testId="action-reply" />
            {own && m.kind === "text" && (
              <MenuItem label="Edit" onClick={run(() => actions.edit(m))} testId="action-edit" />
            )}
            <MenuItem label="Copy text" onClick={run(() => actions.copy(m))} testId="action-copy" />
            <MenuItem label="Mark unread" onClick={run(() => actions.markUnread(m))} testId="action-mark-unread" />
            {actions.canDelete(m) && (
              <MenuItem label="Delete" danger onClick={run(() => actions.remove(m))} testId="action-delete" />
            )}
          </div>,
          document.body,
        )}
      <Dialog
        open={picking}
        onClose={() => {
          setPicking(false);
          trigger.current?.focus();
        }}
        title="Add a reaction"
        testId="emoji-picker"
        className="dlg-emoji"
      >
        <EmojiPicker.Root
          className="emoji-picker"
          resolveEmojiData={resolveEmojiData}
          columns={8}
          onEmojiSelect={({ emoji }) => {
            setPicking(false);
            actions.react(m, emoji, !mine.has(emoji));
            trigger.current?.focus();
          }}
        >
          <EmojiPicker.Search className="emoji-search" aria-label="Search emoji" placeholder="Search emoji" />
          <EmojiPicker.Viewport className="emoji-viewport">
            <EmojiPicker.Loading>Loading…</EmojiPicker.Loading>
            <EmojiPicker.Empty>No emoji found.</EmojiPicker.Empty>
            <EmojiPicker.List className="emoji-list" components={pickerParts} />
          </EmojiPicker.Viewport>
        </EmojiPicker.Root>
      </Dialog>
    </div>
  );
}

function PickerCategory({ category, ...props }: EmojiPickerListCategoryHeaderProps) {
  return (
    <div className="emoji-category" {...props}>
      {category.label}
    </div>
  );
}

// frimousse numbers grid rows and cells from 0; ARIA counts from 1.
const fromOne = (index: unknown) => (typeof index === "number" ? index + 1 : undefined);

function PickerRow(props: EmojiPickerListRowProps) {
  // biome-ignore lint/a11y/useAriaPropsSupportedByRole: the role ("row") comes in props from frimousse.
  return <div {...props} aria-rowindex={fromOne(props["aria-rowindex"])} />;
}

function PickerEmoji({ emoji, ...props }: EmojiPickerListEmojiProps) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: frimousse's grid cells are buttons; the role repeats the one it passes.
    <button
      type="button"
      role="gridcell"
      className="emoji-button"
      data-testid="picker-emoji"
      {...props}
      aria-colindex={fromOne(props["aria-colindex"])}
    >
      {emoji.emoji}
    </button>
  );
}

const pickerParts = { CategoryHeader: PickerCategory, Emoji: PickerEmoji, Row: PickerRow };

function MenuItem({
  label,
  onClick,
  danger,
  testId,
}: {
  label: string;
  onClick: () => void;
  danger?: boolean;
  testId: string;
}) {
  return (
    <button
      type="button"
      role="menuitem"
      className={`msg-menu-item${danger ? " danger" : ""}`}
      onClick={onClick}
      data-testid={testId}
    >
      {label}
    </button>
  );
}
