// What a notification says, the same for a push (composed on the server) and
// the alert a hidden tab shows itself. No message text when preview is off.

export type NotificationFacts = {
  kind: "dm" | "group";
  conversationName: string | null;
  senderName: string;
  /** Message text, or null when the reader hides it in notifications. */
  preview: string | null;
  /** Unread in the conversation, this message included. */
  unread: number;
};

export function notificationText(f: NotificationFacts): { title: string; body: string } {
  const title = f.kind === "group" ? (f.conversationName ?? "Group") : f.senderName;
  const text = f.preview === null ? null : f.preview.replace(/\s+/g, " ").trim();
  if (f.unread <= 1) {
    if (text === null) return { title, body: `New message from ${f.senderName}` };
    return { title, body: f.kind === "group" ? `${f.senderName}: ${text}` : text };
  }
  const count =
    f.kind === "group"
      ? `${f.unread} new messages, the latest from ${f.senderName}`
      : `${f.unread} new messages from ${f.senderName}`;
  return { title, body: text === null ? count : `${count}\n${text}` };
}

/** One notification per conversation, replaced in place as more messages arrive. */
export const notificationTag = (conversationId: string) => `chorus-conversation-${conversationId}`;

/** What the service worker receives in a push. */
export type PushPayload = {
  title: string;
  body: string;
  tag: string;
  /** Page to open or focus on click. */
  url: string;
  conversationId: string;
  seq: number;
  unread: number;
};
