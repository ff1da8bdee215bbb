"use client";
import { useRef, useState } from "react";
import type { ReactionSummary, WireMessage } from "@/server/realtime/events";
import { Avatar } from "./avatar";
import type { Receipt } from "./chat-api";
import type { PendingMessage } from "./chat-store";
import { timeOfDay } from "./format";
import { CheckIcon, ClockIcon, DoubleCheckIcon } from "./icons";
import { type MessageActions, MessageActionsMenu } from "./message-actions";
import { LinkPreviewCard, MessageAttachments } from "./message-attachments";
import { MessageText } from "./message-text";

/** One message as a bubble: sender, reply preview, body (or its tombstone), reactions, time and status, actions. */
export function MessageBubble({
  m,
  own,
  runStart,
  isGroup,
  receipt,
  actions,
  highlighted,
}: {
  m: WireMessage;
  own: boolean;
  runStart: boolean;
  isGroup: boolean;
  receipt: Receipt | null;
  actions: MessageActions;
  highlighted: boolean;
}) {
  const showSender = isGroup && !own && runStart;
  const status = own ? statusOf(receipt, isGroup) : null;
  const deleted = Boolean(m.deletedAt);
  const rowRef = useRef<HTMLDivElement>(null);
  return (
    <div
      ref={rowRef}
      className={`msg-row${own ? " own" : ""}${runStart ? " run-start" : ""}${highlighted ? " highlighted" : ""}`}
      data-testid="message"
      data-seq={m.seq}
      data-own={own}
      data-status={status?.status}
      data-deleted={deleted || undefined}
      data-edited={Boolean(m.editedAt) || undefined}
    >
      {isGroup && !own && (
        <span className="msg-avatar">
          {runStart && (
            <Avatar id={m.senderId ?? m.id} name={m.senderName ?? "?"} url={m.senderAvatarUrl} size={32} decorative />
          )}
        </span>
      )}
      <div className="bubble-column">
        <div className={`bubble${deleted ? " deleted" : ""}`}>
          {showSender && (
            <div className="msg-sender" data-testid="message-sender">
              {m.senderName ?? "Unknown"}
            </div>
          )}
          {m.replyTo && !deleted && <ReplyQuote reply={m.replyTo} onJump={actions.jumpTo} />}
          {(deleted || m.body || !m.attachments?.length) && (
            <div className="msg-body" data-testid="message-body">
              {deleted ? <em className="msg-deleted">This message was deleted</em> : <MessageText body={m.body} />}
            </div>
          )}
          {!deleted && m.attachments && m.attachments.length > 0 && <MessageAttachments attachments={m.attachments} />}
          {!deleted && m.linkPreview && (
            <LinkPreviewCard preview={m.linkPreview} onRemove={own ? () => actions.removePreview(m) : undefined} />
          )}
          <div className="msg-meta">
            {m.editedAt && !deleted && (
              <span className="msg-edited" data-testid="message-edited" title={new Date(m.editedAt).toLocaleString()}>
                (edited)
              </span>
            )}
            <time dateTime={m.createdAt} title={new Date(m.createdAt).toLocaleString()}>
              {timeOfDay(m.createdAt)}
            </time>
            {status && <StatusMark status={status} />}
          </div>
        </div>
        {!deleted && (m.reactions?.length ?? 0) > 0 && (
          <ReactionChips m={m} reactions={m.reactions ?? []} actions={actions} />
        )}
      </div>
      {!deleted && <MessageActionsMenu m={m} own={own} actions={actions} longPressTarget={rowRef} />}
    </div>
  );
}

function ReplyQuote({ reply, onJump }: { reply: NonNullable<WireMessage["replyTo"]>; onJump: (seq: number) => void }) {
  const text = reply.deleted
    ? "Original message was deleted"
    : reply.preview === null
      ? "An earlier message"
      : reply.preview;
  const name = reply.senderName ?? (reply.deleted ? "" : "Someone");
  return (
    <button
      type="button"
      className="msg-reply-quote"
      onClick={() => onJump(reply.seq)}
      data-testid="reply-quote"
      data-reply-seq={reply.seq}
    >
      <span className="sr-only">Replying to </span>
      {name && <span className="msg-reply-name">{name}</span>}
      <span className="msg-reply-text">{text}</span>
    </button>
  );
}

function ReactionChips({
  m,
  reactions,
  actions,
}: {
  m: WireMessage;
  reactions: ReactionSummary[];
  actions: MessageActions;
}) {
  return (
    <ul className="reactions" aria-label="Reactions" data-testid="reactions">
      {reactions.map((r) => (
        <li key={r.emoji}>
          <ReactionChip m={m} r={r} actions={actions} />
        </li>
      ))}
    </ul>
  );
}

function ReactionChip({ m, r, actions }: { m: WireMessage; r: ReactionSummary; actions: MessageActions }) {
  const [who, setWho] = useState<string | null>(null);
  const loadWho = () => {
    if (who !== null) return;
    void actions
      .reactors(m, r.emoji)
      .then((names) => {
        const more = r.count - names.length;
        setWho(`${names.join(", ")}${more > 0 ? ` and ${more} more` : ""}`);
      })
      .catch(() => setWho(""));
  };
  const label = `${r.emoji} ${r.count} ${r.count === 1 ? "reaction" : "reactions"}${r.me ? ", including you" : ""}`;
  return (
    <button
      type="button"
      className={`reaction-chip${r.me ? " me" : ""}`}
      aria-pressed={r.me}
      aria-label={who ? `${label}: ${who}` : label}
      title={who || undefined}
      onMouseEnter={loadWho}
      onFocus={loadWho}
      onClick={() => actions.react(m, r.emoji, !r.me)}
      data-testid="reaction-chip"
      data-emoji={r.emoji}
      data-count={r.count}
      data-me={r.me}
    >
      <span aria-hidden="true">{r.emoji}</span>
      <span className="reaction-count" aria-hidden="true">
        {r.count}
      </span>
    </button>
  );
}

export type Status = { status: "sent" | "delivered" | "read"; readBy: number; names: string[] | null };

function statusOf(receipt: Receipt | null, isGroup: boolean): Status {
  if (!receipt) return { status: "sent", readBy: 0, names: null };
  const names = receipt.readers?.map((r) => r.name) ?? null;
  if (isGroup) {
    const status =
      receipt.recipients > 0 && receipt.read >= receipt.recipients
        ? "read"
        : receipt.delivered > 0
          ? "delivered"
          : "sent";
    return { status, readBy: receipt.read, names };
  }
  const status = receipt.read > 0 ? "read" : receipt.delivered > 0 ? "delivered" : "sent";
  return { status, readBy: 0, names: null };
}

function StatusMark({ status }: { status: Status }) {
  const label = status.status === "read" ? "Read" : status.status === "delivered" ? "Delivered" : "Sent";
  return (
    <>
      {status.readBy > 0 && (
        <span className="read-by" data-testid="read-by" title={status.names?.join(", ")}>
          Read by {status.readBy}
        </span>
      )}
      <span
        className={`ticks ticks-${status.status}`}
        data-testid="message-status"
        data-status={status.status}
        role="img"
        aria-label={label}
        title={label}
      >
        {status.status === "sent" ? <CheckIcon size={14} /> : <DoubleCheckIcon size={17} />}
      </span>
    </>
  );
}

export function PendingBubble({
  p,
  onRetry,
  onDiscard,
}: {
  p: PendingMessage;
  onRetry: (p: PendingMessage) => void;
  onDiscard: (p: PendingMessage) => void;
}) {
  const failed = p.status === "failed";
  return (
    <div
      className={`msg-row own${failed ? " failed" : " pending"}`}
      data-testid="message"
      data-pending="true"
      data-status={failed ? "failed" : "pending"}
      data-client-msg-id={p.clientMsgId}
    >
      <div className="bubble">
        {p.replyTo && (
          <div className="msg-reply-quote" data-testid="reply-quote">
            <span className="sr-only">Replying to </span>
            <span className="msg-reply-name">{p.replyTo.senderName ?? "Someone"}</span>
            <span className="msg-reply-text">{p.replyTo.preview}</span>
          </div>
        )}
        {p.body && (
          <div className="msg-body" data-testid="message-body">
            <MessageText body={p.body} />
          </div>
        )}
        {p.attachments && p.attachments.length > 0 && (
          <div className="muted">{p.attachments.map((a) => a.name).join(", ")}</div>
        )}
        <div className="msg-meta">
          {failed ? (
            <span className="msg-failed" role="alert" data-testid="message-error">
              Not sent{p.error ? `: ${p.error}` : ""}
            </span>
          ) : (
            <span
              className="ticks ticks-pending"
              data-testid="message-status"
              data-status="pending"
              role="img"
              aria-label="Sending"
              title="Sending"
            >
              <ClockIcon size={13} />
            </span>
          )}
        </div>
        {failed && (
          <div className="msg-actions">
            <button type="button" className="link-btn" onClick={() => onRetry(p)} data-testid="retry-send">
              Retry
            </button>
            <button type="button" className="link-btn" onClick={() => onDiscard(p)} data-testid="discard-send">
              Discard
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
