"use client";
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTRPC } from "./trpc";
import { presenceText, usePresence, usePresenceSettings, useOnlineCount, useUserPresence } from "./use-presence";

// Presence and typing as the chat header words them; the data comes from the
// presence/typing hooks (use-presence.ts, use-typing.ts).

/** Online members of a group: pushed presence of its members when small, a server count when large. */
function useGroupOnline(conversationId: string, memberCount: number, enabled: boolean): number | null {
  const trpc = useTRPC();
  const { fanoutMaxMembers } = usePresenceSettings();
  const small = enabled && memberCount <= fanoutMaxMembers;
  const roster = useQuery(
    trpc.group.members.queryOptions({ conversationId, limit: 200 }, { enabled: small, staleTime: 60_000 }),
  );
  const ids = useMemo(() => roster.data?.items.map((m) => m.userId) ?? [], [roster.data]);
  const presence = usePresence(ids);
  const count = useOnlineCount(conversationId, { enabled: enabled && !small });
  if (small) {
    if (!roster.data) return null;
    let online = 0;
    for (const p of presence.values()) if (p.status !== "offline") online += 1;
    return online;
  }
  return count?.online ?? null;
}

export function HeaderStatus({
  conversationId,
  kind,
  memberCount,
  peerId,
  typingLabel,
}: {
  conversationId: string;
  kind: "dm" | "group";
  memberCount: number;
  peerId: string | null;
  typingLabel: string | null;
}) {
  const peer = useUserPresence(kind === "dm" ? peerId : null);
  const online = useGroupOnline(conversationId, memberCount, kind === "group");
  if (typingLabel) {
    return (
      <p className="chat-subtitle typing" data-testid="typing-indicator" aria-live="polite">
        {typingLabel}
      </p>
    );
  }
  if (kind === "group") {
    return (
      <p className="chat-subtitle muted" data-testid="chat-subtitle">
        {memberCount} member{memberCount === 1 ? "" : "s"}
        {online !== null && <span data-testid="online-count">, {online} online</span>}
      </p>
    );
  }
  return (
    <p className="chat-subtitle muted" data-testid="chat-subtitle" data-presence={peer?.status ?? "unknown"}>
      {presenceText(peer)}
    </p>
  );
}
