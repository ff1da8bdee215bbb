"use client";
import type { PresenceStatus } from "./avatar";
import { lastSeenText } from "./format";

// Presence and typing as the header and list show them. The data comes from
// the presence/typing hooks (issue 6); these components only word it.

export function usePeerPresence(_userId: string | null): PresenceStatus | null {
  return null;
}

export function HeaderStatus({
  kind,
  memberCount,
}: {
  conversationId: string;
  kind: "dm" | "group";
  memberCount: number;
  peerId: string | null;
}) {
  if (kind === "group") {
    return (
      <p className="chat-subtitle muted" data-testid="chat-subtitle">
        {memberCount} member{memberCount === 1 ? "" : "s"}
      </p>
    );
  }
  return (
    <p className="chat-subtitle muted" data-testid="chat-subtitle">
      {lastSeenText(null)}
    </p>
  );
}

export function TypingLine(_: { conversationId: string }) {
  return <div className="typing-line" aria-live="polite" data-testid="typing-indicator" />;
}
