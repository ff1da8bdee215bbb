"use client";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type KeyboardEvent, useCallback, useEffect, useRef, useState } from "react";
import { MAX_BODY_CHARS as MAX_BODY } from "@/lib/limits";
import type { WireMessage } from "@/server/realtime/events";
import { useChat } from "./chat-context";
import {
  addMessages,
  applyMessageToList,
  errorCode,
  errorText,
  newClientMsgId,
  type PendingMessage,
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
        const sent = await api.send(conversationId, pending.clientMsgId, pending.body);
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
    (body: string) =>
      attempt({
        clientMsgId: newClientMsgId(),
        body,
        createdAt: new Date().toISOString(),
        status: "pending",
        error: null,
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
  onTyping,
  onStopTyping,
  disabledReason,
}: {
  conversationId: string;
  onSend: (body: string) => void;
  onTyping?: () => void;
  onStopTyping?: () => void;
  disabledReason?: string | null;
}) {
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const draftKey = `chorus:draft:${conversationId}`;

  useEffect(() => {
    const saved = sessionStorage.getItem(draftKey);
    if (saved) setText(saved);
    ref.current?.focus();
  }, [draftKey]);

  useEffect(() => {
    if (text) sessionStorage.setItem(draftKey, text);
    else sessionStorage.removeItem(draftKey);
  }, [text, draftKey]);

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
    onSend(text.trim());
    onStopTyping?.();
    setText("");
    ref.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  const counterId = `${draftKey}-counter`;
  return (
    <form className="composer" onSubmit={submit} data-testid="composer">
      <textarea
        ref={ref}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim()) onTyping?.();
          else onStopTyping?.();
        }}
        onKeyDown={onKeyDown}
        onBlur={() => onStopTyping?.()}
        rows={1}
        placeholder={disabledReason ?? "Write a message…"}
        title="Enter sends, Shift+Enter adds a new line"
        aria-label="Message"
        aria-describedby={length >= COUNTER_FROM ? counterId : undefined}
        aria-invalid={tooLong || undefined}
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
      <button type="submit" className="btn send-btn" disabled={!canSend} data-testid="send-button" aria-label="Send">
        Send
      </button>
    </form>
  );
}
