"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { MAX_USER_SEARCH_CHARS } from "@/lib/limits";
import type { AppRouter } from "@/server/api/root";
import { Avatar } from "./avatar";
import { describeError } from "./error-message";
import { useTRPC } from "./trpc";
import "./dialogs.css";

export type PickedUser = inferRouterOutputs<AppRouter>["user"]["search"][number];

const SEARCH_DEBOUNCE_MS = 250;

function matches(user: PickedUser, typed: string): boolean {
  const q = typed.toLowerCase();
  return user.username.toLowerCase().startsWith(q) || user.displayName.toLowerCase().includes(q);
}

export function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/**
 * A search box with a keyboard-navigable list of people (a combobox + listbox): arrows move,
 * Enter picks, Backspace in an empty box drops the last chip. `selected` shows as removable chips.
 */
export function UserPicker({
  label,
  placeholder = "Search people by name or username",
  onPick,
  selected = [],
  onUnpick,
  unavailable,
  testId,
  autoFocus = false,
  disabled = false,
}: {
  label: string;
  placeholder?: string;
  onPick: (user: PickedUser) => void;
  selected?: PickedUser[];
  onUnpick?: (user: PickedUser) => void;
  /** Users shown but not pickable, with the reason (e.g. "Already a member"). */
  unavailable?: (userId: string) => string | null;
  /** Prefix for data-testid: `${testId}-search`, `${testId}-result`, `${testId}-chip`. */
  testId: string;
  autoFocus?: boolean;
  disabled?: boolean;
}) {
  const trpc = useTRPC();
  const listId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  // The highlighted row, remembered per search term so a new term starts at the top.
  const [highlight, setHighlight] = useState({ term: "", index: 0 });
  const term = useDebounced(query.trim(), SEARCH_DEBOUNCE_MS);
  const search = useQuery(
    trpc.user.search.queryOptions(
      { query: term, limit: 20 },
      { enabled: term.length > 0, placeholderData: keepPreviousData, staleTime: 15_000 },
    ),
  );
  const typed = query.trim();
  const typing = typed !== term;
  const fresh = !typing && !search.isPlaceholderData;
  // Until the answer for what is typed arrives, older results are narrowed the way the server
  // matches, so nobody clicks a row that no longer fits the search.
  const results =
    typed.length === 0 ? [] : fresh ? (search.data ?? []) : (search.data ?? []).filter((u) => matches(u, typed));
  const selectedIds = new Set(selected.map((u) => u.id));

  const active = highlight.term === typed ? highlight.index : 0;
  const setActive = (index: number) => setHighlight({ term: typed, index });
  const activeIndex = results.length === 0 ? -1 : Math.min(active, results.length - 1);
  const activeUser = activeIndex >= 0 ? results[activeIndex] : undefined;
  const optionId = (index: number) => `${listId}-opt-${index}`;

  function pick(user: PickedUser) {
    if (unavailable?.(user.id)) return;
    if (selectedIds.has(user.id) && onUnpick) {
      onUnpick(user);
    } else {
      onPick(user);
    }
    if (onUnpick) {
      setQuery("");
      inputRef.current?.focus();
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" && results.length > 0) {
      event.preventDefault();
      setActive((activeIndex + 1) % results.length);
    } else if (event.key === "ArrowUp" && results.length > 0) {
      event.preventDefault();
      setActive((activeIndex - 1 + results.length) % results.length);
    } else if (event.key === "Home" && results.length > 0 && event.ctrlKey) {
      event.preventDefault();
      setActive(0);
    } else if (event.key === "End" && results.length > 0 && event.ctrlKey) {
      event.preventDefault();
      setActive(results.length - 1);
    } else if (event.key === "Enter") {
      // Enter belongs to the search while something is typed; it never submits the surrounding form.
      if (query.trim() !== "") event.preventDefault();
      if (activeUser) pick(activeUser);
    } else if (event.key === "Backspace" && query === "" && selected.length > 0 && onUnpick) {
      onUnpick(selected[selected.length - 1]);
    }
  }

  let status: string | null = null;
  if (typed.length > 0) {
    if (search.isError) status = describeError(search.error);
    else if (!fresh || search.isPending) status = results.length === 0 ? "Searching…" : null;
    else if (results.length === 0) status = `No one found for “${typed}”`;
  }

  return (
    <div className="user-picker">
      {selected.length > 0 && (
        <ul className="chips" aria-label="Chosen people" data-testid={`${testId}-chips`}>
          {selected.map((user) => (
            <li key={user.id} className="chip" data-testid={`${testId}-chip`} data-user-id={user.id}>
              <Avatar id={user.id} name={user.displayName} url={user.avatarUrl} size={22} decorative />
              <span className="chip-name">{user.displayName}</span>
              {onUnpick && (
                <button
                  type="button"
                  aria-label={`Remove ${user.displayName}`}
                  onClick={() => {
                    onUnpick(user);
                    inputRef.current?.focus();
                  }}
                  disabled={disabled}
                  data-testid={`${testId}-chip-remove`}
                >
                  <span aria-hidden="true">×</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <label className="field">
        <span className="sr-only">{label}</span>
        <input
          ref={inputRef}
          className="search-input"
          type="search"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={results.length > 0}
          aria-controls={listId}
          aria-activedescendant={activeUser ? optionId(activeIndex) : undefined}
          autoComplete="off"
          spellCheck={false}
          placeholder={placeholder}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={onKeyDown}
          maxLength={MAX_USER_SEARCH_CHARS}
          autoFocus={autoFocus}
          data-autofocus={autoFocus || undefined}
          disabled={disabled}
          data-testid={`${testId}-search`}
        />
      </label>
      <p className="status-line" role="status" aria-live="polite" data-testid={`${testId}-status`}>
        {status ?? (typed.length === 0 ? "" : `${results.length} ${results.length === 1 ? "person" : "people"} found`)}
      </p>
      <div
        id={listId}
        className="user-results"
        role="listbox"
        aria-label={label}
        aria-multiselectable={Boolean(onUnpick)}
      >
        {results.map((user, index) => {
          const reason = unavailable?.(user.id) ?? null;
          const chosen = selectedIds.has(user.id);
          return (
            // biome-ignore lint/a11y/useKeyWithClickEvents: keyboard users pick with Enter in the combobox input
            <div
              key={user.id}
              id={optionId(index)}
              role="option"
              tabIndex={-1}
              className="user-result"
              aria-selected={index === activeIndex}
              aria-checked={onUnpick ? chosen : undefined}
              aria-disabled={reason ? true : undefined}
              onMouseEnter={() => setActive(index)}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(user)}
              data-testid={`${testId}-result`}
              data-user-id={user.id}
              data-username={user.username}
            >
              <Avatar id={user.id} name={user.displayName} url={user.avatarUrl} size={32} decorative />
              <span className="user-text">
                <span className="user-name">{user.displayName}</span>
                <span className="user-handle">@{user.username}</span>
              </span>
              {reason && <span className="field-hint">{reason}</span>}
              {!reason && chosen && (
                <span className="check-mark">
                  <span aria-hidden="true">✓</span>
                  <span className="sr-only">chosen</span>
                </span>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
