"use client";
import { type KeyboardEvent, useEffect, useId, useState } from "react";
import { useChat } from "./chat-context";

export type MentionCandidate = { id: string; username: string; displayName: string };

// "@" starting a word, then what has been typed of the name, right before the caret.
const TYPING_MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{0,32})$/;

/** The @word being typed at the caret, if any: where it starts and what is typed so far. */
export function mentionAtCaret(text: string, caret: number): { start: number; query: string } | null {
  const match = text.slice(0, caret).match(TYPING_MENTION);
  if (!match || match.index === undefined) return null;
  return { start: match.index + match[1].length, query: match[2] };
}

/** Replaces the @word at the caret with the picked username and a space; returns the new text and caret. */
export function insertMention(
  text: string,
  caret: number,
  at: { start: number },
  username: string,
): { text: string; caret: number } {
  const inserted = `@${username} `;
  return { text: text.slice(0, at.start) + inserted + text.slice(caret), caret: at.start + inserted.length };
}

const SEARCH_DELAY_MS = 120;

/**
 * Mention autocomplete for the composer: watches the @word at the caret,
 * asks the server for members by prefix (debounced), and handles the keys
 * of a listbox (arrows, Enter/Tab to pick, Escape to close).
 */
export function useMentionAutocomplete(conversationId: string, text: string, caret: number) {
  const { api } = useChat();
  const at = mentionAtCaret(text, caret);
  const query = at?.query ?? null;
  const [results, setResults] = useState<{ query: string; items: MentionCandidate[] } | null>(null);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const listId = useId();

  useEffect(() => {
    if (query === null) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      api
        .searchMembers(conversationId, query)
        .then((items) => {
          if (!cancelled) {
            setResults({ query, items });
            setActive(0);
          }
        })
        .catch((e: unknown) => console.error("mention search failed", e));
    }, SEARCH_DELAY_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api, conversationId, query]);

  const key = at ? `${at.start}:${query}` : null;
  const items = query !== null && results?.query === query ? results.items : [];
  const open = query !== null && items.length > 0 && dismissed !== key;

  /** Returns the pick when a key chose one; true when the key was handled otherwise. */
  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): MentionCandidate | boolean {
    if (!open) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((i) => (i + step + items.length) % items.length);
      return true;
    }
    if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      return items[active] ?? false;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      setDismissed(key);
      return true;
    }
    return false;
  }

  return {
    at,
    open,
    items,
    active,
    listId,
    optionId: (i: number) => `${listId}-${i}`,
    onKeyDown,
  };
}

export function MentionSuggestions({
  listId,
  items,
  active,
  optionId,
  onPick,
}: {
  listId: string;
  items: MentionCandidate[];
  active: number;
  optionId: (i: number) => string;
  onPick: (c: MentionCandidate) => void;
}) {
  return (
    <div className="mention-popup" role="listbox" id={listId} aria-label="People to mention" data-testid="mention-list">
      {items.map((c, i) => (
        <div
          key={c.id}
          id={optionId(i)}
          role="option"
          tabIndex={-1}
          aria-selected={i === active}
          className={`mention-option${i === active ? " active" : ""}`}
          // The textarea keeps focus: pick on pointer down, before it would blur.
          onPointerDown={(e) => {
            e.preventDefault();
            onPick(c);
          }}
          data-testid="mention-option"
          data-username={c.username}
        >
          <span className="mention-name">{c.displayName}</span> <span className="muted">@{c.username}</span>
        </div>
      ))}
    </div>
  );
}
