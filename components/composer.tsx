"use client";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type KeyboardEvent, useCallback, useEffect, useRef, useState } from "react";
import { MAX_BODY_CHARS as MAX_BODY } from "@/lib/limits";
import type { WireMessage } from "@/server/realtime/events";
import { useChat } from "./chat-context";
import { insertMention, MentionSuggestions, useMentionAutocomplete } from "./mention-autocomplete";
import {
  addMessages,
  applyMessageToList,
  errorCode,
  errorText,
  newClientMsgId,
  type PendingMessage,
  previewOf,
  removePending,
  setPending,
} from "./chat-store";

// No answer in this long: show the message as failed (a late success still replaces it).
const SEND_TIMEOUT_MS = 15_000;
const COUNTER_FROM = MAX_BODY - 500;

/** Optimistic, retry-safe sending: the same clientMsgId on every attempt, so the server stores it once. */
export function useSendMessage(conversationId: string) {
  const qc = useQueryClient();
  const { api, me } = useChat();

  const attempt = useCallback(
    async (pending: PendingMessage) => {
      setPending(qc, conversationId, { ...pending, status: "pending", error: null });
      let settled = false;
      const timer = setTimeout(() => {
        if (!settled)
          setPending(qc, conversationId, { ...pending, status: "failed", error: "No response from the server" });
      }, SEND_TIMEOUT_MS);
      try {
        const sent = await api.send(conversationId, pending.clientMsgId, pending.body, pending.replyTo?.seq);
        settled = true;
        const message: WireMessage = {
          id: sent.id,
          conversationId,
          seq: sent.seq,
          senderId: me.id,
          senderName: me.displayName,
          senderAvatarUrl: me.avatarUrl,
          clientMsgId: pending.clientMsgId,
          kind: "text",
          body: sent.body,
          meta: null,
          createdAt: sent.createdAt,
          editedAt: null,
          deletedAt: null,
          reactions: [],
          replyTo: pending.replyTo ?? null,
        };
        addMessages(qc, conversationId, [message]);
        applyMessageToList(qc, message, me);
      } catch (e) {
        settled = true;
        setPending(qc, conversationId, { ...pending, status: "failed", error: sendErrorText(e) });
      } finally {
        clearTimeout(timer);
      }
    },
    [qc, api, me, conversationId],
  );

  const send = useCallback(
    (body: string, replyTo?: WireMessage | null) =>
      attempt({
        clientMsgId: newClientMsgId(),
        body,
        createdAt: new Date().toISOString(),
        status: "pending",
        error: null,
        replyTo: replyTo
          ? { seq: replyTo.seq, senderName: replyTo.senderName, preview: previewOf(replyTo), deleted: false }
          : null,
      }),
    [attempt],
  );
  const discard = useCallback(
    (p: PendingMessage) => removePending(qc, conversationId, p.clientMsgId),
    [qc, conversationId],
  );
  return { send, retry: attempt, discard };
}

function sendErrorText(e: unknown): string {
  const code = errorCode(e);
  const text = errorText(e);
  if (code === "TOO_MANY_REQUESTS") return `You are sending too fast. ${text}`;
  return text;
}

export function Composer({
  conversationId,
  onSend,
  onEdit,
  onEditLast,
  onCancel,
  replyTo,
  editing,
  onTyping,
  onStopTyping,
  disabledReason,
}: {
  conversationId: string;
  onSend: (body: string) => void;
  /** Saves the message being edited. */
  onEdit?: (body: string) => void;
  /** Up arrow in an empty composer: edit my last message. */
  onEditLast?: () => void;
  /** Esc or the banner's close button: stop replying or editing. */
  onCancel?: () => void;
  replyTo?: WireMessage | null;
  editing?: WireMessage | null;
  onTyping?: () => void;
  onStopTyping?: () => void;
  disabledReason?: string | null;
}) {
  const [text, setText] = useState("");
  const [caret, setCaret] = useState(0);
  const ref = useRef<HTMLTextAreaElement>(null);
  const draftKey = `chorus:draft:${conversationId}`;
  const mention = useMentionAutocomplete(conversationId, text, caret);

  useEffect(() => {
    const saved = sessionStorage.getItem(draftKey);
    if (saved) setText(saved);
    ref.current?.focus();
  }, [draftKey]);

  useEffect(() => {
    // An edit in progress is not a draft.
    if (editing) return;
    if (text) sessionStorage.setItem(draftKey, text);
    else sessionStorage.removeItem(draftKey);
  }, [text, draftKey, editing]);

  // Editing puts the message's text in the box; stopping brings the draft back.
  const editingSeq = editing?.seq ?? null;
  const editingBody = useRef(editing?.body ?? "");
  editingBody.current = editing?.body ?? "";
  useEffect(() => {
    const el = ref.current;
    if (editingSeq !== null) {
      const body = editingBody.current;
      setText(body);
      setCaret(body.length);
      el?.focus();
      requestAnimationFrame(() => el?.setSelectionRange(body.length, body.length));
    } else {
      setText(sessionStorage.getItem(draftKey) ?? "");
    }
  }, [editingSeq, draftKey]);

  const replySeq = replyTo?.seq ?? null;
  useEffect(() => {
    if (replySeq !== null) ref.current?.focus();
  }, [replySeq]);

  // Grow with the text up to a few lines.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the height follows the text.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 180)}px`;
  }, [text]);

  const length = [...text.trim()].length;
  const tooLong = length > MAX_BODY;
  const canSend = length > 0 && !tooLong && !disabledReason;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    if (editing) onEdit?.(text.trim());
    else onSend(text.trim());
    onStopTyping?.();
    setText("");
    setCaret(0);
    ref.current?.focus();
  }

  function pick(username: string) {
    if (!mention.at) return;
    const next = insertMention(text, caret, mention.at, username);
    setText(next.text);
    setCaret(next.caret);
    requestAnimationFrame(() => {
      ref.current?.focus();
      ref.current?.setSelectionRange(next.caret, next.caret);
    });
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    const handled = mention.onKeyDown(event);
    if (typeof handled === "object") {
      pick(handled.username);
      return;
    }
    if (handled) return;
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape" && (editing || replyTo)) {
      event.preventDefault();
      onCancel?.();
    } else if (event.key === "ArrowUp" && text === "" && !editing && onEditLast) {
      event.preventDefault();
      onEditLast();
    }
  }

  const counterId = `${draftKey}-counter`;
  return (
    <form className="composer-wrap" onSubmit={submit} data-testid="composer">
      {(editing || replyTo) && (
        <div className="composer-context" data-testid={editing ? "editing-banner" : "reply-banner"}>
          <span className="composer-context-text">
            {editing ? (
              <strong>Editing message</strong>
            ) : (
              <>
                <strong>Replying to {replyTo?.senderName ?? "someone"}</strong>{" "}
                <span className="muted">{replyTo ? previewOf(replyTo) : ""}</span>
              </>
            )}
          </span>
          <button
            type="button"
            className="icon-btn"
            onClick={onCancel}
            aria-label={editing ? "Cancel editing" : "Cancel reply"}
            data-testid="composer-cancel"
          >
            <span aria-hidden="true">×</span>
          </button>
        </div>
      )}
      {mention.open && (
        <MentionSuggestions
          listId={mention.listId}
          items={mention.items}
          active={mention.active}
          optionId={mention.optionId}
          onPick={(c) => pick(c.username)}
        />
      )}
      <div className="composer">
        <textarea
          ref={ref}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart ?? e.target.value.length);
            if (e.target.value.trim()) onTyping?.();
            else onStopTyping?.();
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKeyDown}
          onBlur={() => onStopTyping?.()}
          rows={1}
          placeholder={disabledReason ?? (editing ? "Edit your message…" : "Write a message…")}
          title="Enter sends, Shift+Enter adds a new line, Up edits your last message"
          aria-label={editing ? "Edit message" : "Message"}
          aria-describedby={length >= COUNTER_FROM ? counterId : undefined}
          aria-invalid={tooLong || undefined}
          aria-autocomplete="list"
          aria-controls={mention.open ? mention.listId : undefined}
          aria-expanded={mention.open}
          aria-activedescendant={mention.open ? mention.optionId(mention.active) : undefined}
          role="combobox"
          disabled={Boolean(disabledReason)}
          data-testid="composer-input"
        />
        {length >= COUNTER_FROM && (
          <span
            id={counterId}
            className={`composer-counter${tooLong ? " over" : ""}`}
            data-testid="composer-counter"
            aria-live="polite"
          >
            {tooLong ? `${length - MAX_BODY} characters too long` : `${MAX_BODY - length} left`}
          </span>
        )}
        <button
          type="submit"
          className="btn send-btn"
          disabled={!canSend}
          data-testid="send-button"
          aria-label={editing ? "Save" : "Send"}
        >
          {editing ? "Save" : "Send"}
        </button>
      </div>
    </form>
  );
}
