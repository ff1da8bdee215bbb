"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useChat } from "./chat-context";
import { errorText } from "./chat-store";
import { Dialog } from "./dialog";
import { listTime } from "./format";
import { requestJump } from "./jump-requests";

/** The sidebar's "@" button and the list it opens: my unread mentions across conversations, newest first. */
export function MentionsButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className="icon-btn"
        onClick={() => setOpen(true)}
        aria-label="Mentions"
        title="Mentions"
        aria-haspopup="dialog"
        data-testid="mentions-button"
      >
        <span aria-hidden="true">@</span>
      </button>
      {open && <MentionsView onClose={() => setOpen(false)} />}
    </>
  );
}

function MentionsView({ onClose }: { onClose: () => void }) {
  const { api, navigate } = useChat();
  const mentions = useQuery({ queryKey: ["chorus", "mentions"], queryFn: () => api.mentions(), staleTime: 0 });
  return (
    <Dialog open onClose={onClose} title="Mentions" variant="panel" testId="mentions-view">
      {mentions.isPending ? (
        <p className="muted">Loading…</p>
      ) : mentions.error ? (
        <p className="error" role="alert">
          Could not load mentions: {errorText(mentions.error)}
        </p>
      ) : mentions.data.items.length === 0 ? (
        <p className="muted" data-testid="mentions-empty">
          No unread mentions.
        </p>
      ) : (
        <ul className="mentions-view">
          {mentions.data.items.map((m) => (
            <li key={`${m.conversationId}:${m.seq}`}>
              <button
                type="button"
                className="mention-item"
                onClick={() => {
                  onClose();
                  navigate(m.conversationId);
                  requestJump(m.conversationId, m.seq);
                }}
                data-testid="mention-item"
                data-conversation-id={m.conversationId}
                data-seq={m.seq}
              >
                <span className="mention-item-head">
                  <span>
                    <strong>{m.senderName ?? "Someone"}</strong>
                    {m.conversationName ? ` in ${m.conversationName}` : ""}
                  </span>
                  <time dateTime={m.createdAt}>{listTime(m.createdAt)}</time>
                </span>
                <span className="mention-item-text">{m.preview}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
