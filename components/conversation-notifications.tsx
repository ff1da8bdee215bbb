"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { NotifyChoice } from "./chat-api";
import { useChat } from "./chat-context";
import { type ConversationItem, updateConversation } from "./chat-store";
import { describeError } from "./error-message";

const SNOOZES: [label: string, hours: number][] = [
  ["1 hour", 1],
  ["8 hours", 8],
  ["1 day", 24],
  ["1 week", 24 * 7],
];

const LEVEL_LABEL = { all: "every message", mentions: "mentions only", none: "nothing" } as const;

/** A conversation's own notification level and snooze, in its header. */
export function ConversationNotifications({ conv }: { conv: ConversationItem }) {
  const { api } = useChat();
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const { levelSet, level, snoozeUntil } = conv.notifications;
  const snoozed = snoozeUntil !== null && Date.parse(snoozeUntil) > Date.now();

  async function change(choice: NotifyChoice, snooze?: string | null) {
    setError(null);
    try {
      const notifications = await api.setNotifications(conv.id, choice, snooze);
      updateConversation(qc, conv.id, (c) => ({ ...c, muted: notifications.muted, notifications }));
    } catch (e) {
      setError(describeError(e));
    }
  }

  return (
    <div className="conv-notify">
      <select
        aria-label="Notifications for this conversation"
        value={levelSet ?? "default"}
        onChange={(e) => void change(e.target.value as NotifyChoice)}
        data-testid="notify-level"
        data-level={level}
      >
        <option value="default">{levelSet === null ? `Default (${LEVEL_LABEL[level]})` : "Default"}</option>
        <option value="all">Every message</option>
        <option value="mentions">Mentions only</option>
        <option value="none">Nothing (muted)</option>
      </select>
      <select
        aria-label="Snooze notifications"
        value={snoozed ? "snoozed" : "off"}
        onChange={(e) => {
          const v = e.target.value;
          if (v === "snoozed") return;
          const until = v === "off" ? null : new Date(Date.now() + Number(v) * 3_600_000).toISOString();
          void change(levelSet ?? "default", until);
        }}
        data-testid="snooze"
        data-snoozed={snoozed ? "true" : "false"}
      >
        <option value="off">{snoozed ? "End snooze" : "Not snoozed"}</option>
        {snoozed && (
          <option value="snoozed">
            Snoozed until{" "}
            {new Date(snoozeUntil).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" })}
          </option>
        )}
        {SNOOZES.map(([label, hours]) => (
          <option key={hours} value={hours}>
            Snooze {label}
          </option>
        ))}
      </select>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
