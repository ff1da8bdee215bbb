"use client";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { MAX_SEARCH_QUERY_CHARS } from "@/lib/limits";
import type { SearchHit } from "@/server/messaging/search";
import { useChat, useConversations } from "./chat-context";
import { errorText } from "./chat-store";
import { Dialog } from "./dialog";
import { timeOfDay } from "./format";
import { requestJump } from "./jump-requests";

const DEBOUNCE_MS = 250;

/** Ctrl/Cmd+K anywhere, or / outside a text field, opens message search. */
export function useSearchShortcut(open: () => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target?.closest("input, textarea, select, [contenteditable='true']");
      if ((e.key === "k" || e.key === "K") && (e.metaKey || e.ctrlKey)) {
        e.preventDefault();
        open();
      } else if (e.key === "/" && !typing && !e.metaKey && !e.ctrlKey && !e.altKey) {
        e.preventDefault();
        open();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);
}

export function MessageSearch({ open, onClose }: { open: boolean; onClose: () => void }) {
  if (!open) return null;
  return <OpenMessageSearch onClose={onClose} />;
}

function OpenMessageSearch({ onClose }: { onClose: () => void }) {
  const { api, me, navigate } = useChat();
  const list = useConversations();
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [conversationId, setConversationId] = useState("");
  const [fromUserId, setFromUserId] = useState("");
  const [pages, setPages] = useState<string[]>([]);

  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  // A new search starts at the first page.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the filters reset the paging
  useEffect(() => setPages([]), [query, conversationId, fromUserId]);

  const filters = {
    ...(conversationId ? { conversationId } : {}),
    ...(fromUserId ? { fromUserId } : {}),
  };
  const results = useQuery({
    queryKey: ["chorus", "search", query, filters, pages],
    queryFn: async () => {
      const all: SearchHit[] = [];
      let next: string | null = null;
      for (const cursor of [undefined, ...pages]) {
        const page = await api.search({ query, ...filters, ...(cursor ? { cursor } : {}) });
        all.push(...page.results);
        next = page.nextCursor;
      }
      return { hits: all, next };
    },
    enabled: query.length > 0,
    staleTime: 10_000,
    retry: false,
  });

  const titles = useMemo(() => new Map((list.data ?? []).map((c) => [c.id, c.title])), [list.data]);
  const groups = useMemo(() => {
    const byConversation = new Map<string, SearchHit[]>();
    for (const hit of results.data?.hits ?? []) {
      const group = byConversation.get(hit.conversationId) ?? [];
      group.push(hit);
      byConversation.set(hit.conversationId, group);
    }
    return [...byConversation.entries()];
  }, [results.data]);
  const senders = useMemo(() => {
    const names = new Map<string, string>([[me.id, "Me"]]);
    for (const hit of results.data?.hits ?? []) if (hit.senderId) names.set(hit.senderId, hit.senderName ?? "Someone");
    if (fromUserId && !names.has(fromUserId)) names.set(fromUserId, "Selected sender");
    return [...names.entries()];
  }, [results.data, me.id, fromUserId]);

  function openHit(hit: SearchHit) {
    onClose();
    navigate(hit.conversationId);
    requestJump(hit.conversationId, hit.seq);
  }

  return (
    <Dialog
      open
      onClose={onClose}
      title="Search messages"
      initialFocus={input}
      testId="message-search"
      className="search-dialog"
    >
      <div className="search-form">
        <input
          ref={input}
          type="search"
          value={text}
          maxLength={MAX_SEARCH_QUERY_CHARS}
          onChange={(e) => setText(e.target.value)}
          placeholder='Words, "a phrase", -exclude, this OR that'
          aria-label="Search messages"
          data-testid="search-input"
        />
        <div className="search-filters">
          <label>
            In{" "}
            <select
              value={conversationId}
              onChange={(e) => setConversationId(e.target.value)}
              data-testid="search-conversation"
            >
              <option value="">All conversations</option>
              {(list.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title}
                </option>
              ))}
            </select>
          </label>
          <label>
            From{" "}
            <select value={fromUserId} onChange={(e) => setFromUserId(e.target.value)} data-testid="search-sender">
              <option value="">Anyone</option>
              {senders.map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div className="search-results" aria-live="polite" data-testid="search-results">
        {query === "" ? (
          <p className="muted">Type to search every conversation you are in.</p>
        ) : results.error ? (
          <p className="error" role="alert">
            {errorText(results.error)}
          </p>
        ) : results.isPending ? (
          <p className="muted">Searching…</p>
        ) : groups.length === 0 ? (
          <p className="muted" data-testid="search-empty">
            No messages match.
          </p>
        ) : (
          groups.map(([id, hits]) => (
            <section key={id} className="search-group" data-testid="search-group">
              <h3>{titles.get(id) ?? hits[0]?.conversationName ?? "Conversation"}</h3>
              <ul>
                {hits.map((hit) => (
                  <li key={hit.messageId}>
                    <button type="button" className="search-hit" onClick={() => openHit(hit)} data-testid="search-hit">
                      <span className="search-hit-meta muted">
                        {hit.senderName ?? "Unknown"} · {new Date(hit.createdAt).toLocaleDateString()}{" "}
                        {timeOfDay(hit.createdAt)}
                      </span>
                      <span className="search-snippet">
                        {hit.snippet.map((part, i) =>
                          part.hit ? (
                            // biome-ignore lint/suspicious/noArrayIndexKey: parts are positional and never reorder
                            <mark key={i}>{part.text}</mark>
                          ) : (
                            // biome-ignore lint/suspicious/noArrayIndexKey: parts are positional and never reorder
                            <span key={i}>{part.text}</span>
                          ),
                        )}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ))
        )}
        {results.data?.next && (
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setPages((p) => [...p, results.data?.next ?? ""])}
            data-testid="search-more"
          >
            More results
          </button>
        )}
      </div>
    </Dialog>
  );
}
