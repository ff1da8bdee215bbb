"use client";
import { useQueryClient } from "@tanstack/react-query";
import {
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
  useCallback,
  useEffect,
  useRef,
  useState,
} from "react";
import { MAX_ATTACHMENTS, MAX_BODY_CHARS as MAX_BODY } from "@/lib/limits";
import type { WireAttachment, WireMessage } from "@/server/realtime/events";
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
import { formatSize, UploadCancelled, type UploadedFile, uploadFile } from "./upload";

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
        const sent = await api.send(
          conversationId,
          pending.clientMsgId,
          pending.body,
          pending.replyTo?.seq,
          (pending.attachments ?? []).map((a) => a.id),
        );
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
          attachments: sent.attachments,
          linkPreview: null,
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
    (body: string, replyTo?: WireMessage | null, attachments: WireAttachment[] = []) =>
      attempt({
        clientMsgId: newClientMsgId(),
        body,
        attachments,
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

type Upload = {
  localId: string;
  name: string;
  size: number;
  progress: number;
  status: "uploading" | "done" | "failed";
  error: string | null;
  file: UploadedFile | null;
  cancel: () => void;
};

const asAttachment = (f: UploadedFile): WireAttachment => ({
  id: f.fileId,
  name: f.name,
  mime: f.mime,
  size: f.size,
  width: f.width ?? null,
  height: f.height ?? null,
  thumbnail: f.width !== undefined,
});

/** Files being attached to the next message: upload at once, progress, cancel, clear errors. */
function useUploads() {
  const [uploads, setUploads] = useState<Upload[]>([]);
  // Uploads start outside state updaters (which React may run twice); the count is read from here.
  const count = useRef(0);
  count.current = uploads.length;
  const update = useCallback(
    (localId: string, patch: Partial<Upload>) =>
      setUploads((list) => list.map((u) => (u.localId === localId ? { ...u, ...patch } : u))),
    [],
  );
  const add = useCallback(
    (files: File[]) => {
      const room = Math.max(0, MAX_ATTACHMENTS - count.current);
      const started: Upload[] = files.slice(0, room).map((file) => {
        const localId = newClientMsgId();
        const handle = uploadFile(file, (progress) => update(localId, { progress }));
        handle.done.then(
          (uploaded) => update(localId, { status: "done", progress: 1, file: uploaded }),
          (error: unknown) => {
            if (error instanceof UploadCancelled) {
              setUploads((l) => l.filter((u) => u.localId !== localId));
              return;
            }
            update(localId, { status: "failed", error: error instanceof Error ? error.message : String(error) });
          },
        );
        return {
          localId,
          name: file.name || "pasted file",
          size: file.size,
          progress: 0,
          status: "uploading",
          error: null,
          file: null,
          cancel: handle.cancel,
        };
      });
      if (files.length > started.length) {
        started.push({
          localId: newClientMsgId(),
          name: `${files.length - started.length} more`,
          size: 0,
          progress: 0,
          status: "failed",
          error: `A message carries at most ${MAX_ATTACHMENTS} files`,
          file: null,
          cancel: () => {},
        });
      }
      count.current += started.length;
      setUploads((list) => [...list, ...started]);
    },
    [update],
  );
  const remove = useCallback((u: Upload) => {
    if (u.status === "uploading") u.cancel();
    setUploads((list) => list.filter((x) => x.localId !== u.localId));
  }, []);
  const clear = useCallback(() => setUploads([]), []);
  return { uploads, add, remove, clear };
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
  onSend: (body: string, attachments: WireAttachment[]) => void;
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

  const { uploads, add, remove, clear } = useUploads();
  const fileInput = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const ready = editing
    ? []
    : uploads.filter((u) => u.status === "done" && u.file).map((u) => asAttachment(u.file as UploadedFile));
  const uploading = uploads.some((u) => u.status === "uploading");

  const length = [...text.trim()].length;
  const tooLong = length > MAX_BODY;
  const canSend = (length > 0 || ready.length > 0) && !tooLong && !uploading && !disabledReason;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    if (editing) onEdit?.(text.trim());
    else {
      onSend(text.trim(), ready);
      clear();
    }
    onStopTyping?.();
    setText("");
    setCaret(0);
    ref.current?.focus();
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const files = [...event.clipboardData.files];
    if (files.length === 0 || editing) return;
    event.preventDefault();
    add(files);
  }

  function onDrop(event: DragEvent<HTMLFormElement>) {
    event.preventDefault();
    setDragging(false);
    const files = [...event.dataTransfer.files];
    if (files.length > 0 && !disabledReason && !editing) add(files);
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
    <form
      className={`composer-wrap${dragging ? " dragging" : ""}`}
      onSubmit={submit}
      data-testid="composer"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes("Files")) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
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
        {uploads.length > 0 && (
          <ul className="composer-uploads" data-testid="composer-uploads">
            {uploads.map((u) => (
              <li key={u.localId} className={`upload upload-${u.status}`} data-testid="upload" data-status={u.status}>
                <span className="upload-name" title={u.name}>
                  {u.name}
                </span>
                {u.size > 0 && <span className="upload-size muted">{formatSize(u.size)}</span>}
                {u.status === "uploading" && (
                  <progress
                    className="upload-progress"
                    max={1}
                    value={u.progress}
                    aria-label={`Uploading ${u.name}`}
                    data-testid="upload-progress"
                  />
                )}
                {u.status === "failed" && (
                  <span className="upload-error" role="alert" data-testid="upload-error">
                    {u.error}
                  </span>
                )}
                <button
                  type="button"
                  className="link-btn"
                  onClick={() => remove(u)}
                  aria-label={u.status === "uploading" ? `Cancel ${u.name}` : `Remove ${u.name}`}
                  data-testid={u.status === "uploading" ? "upload-cancel" : "upload-remove"}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          onChange={(e) => {
            add([...(e.target.files ?? [])]);
            e.target.value = "";
          }}
          data-testid="file-input"
        />
        <button
          type="button"
          className="btn attach-btn"
          onClick={() => fileInput.current?.click()}
          disabled={Boolean(disabledReason)}
          aria-label="Attach files"
          title="Attach files (or paste, or drop them here)"
          data-testid="attach-button"
        >
          📎
        </button>
        <textarea
          onPaste={onPaste}
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
