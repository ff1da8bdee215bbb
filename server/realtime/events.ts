// One typed event map shared by the server publisher and the browser client.
// Each domain adds its events here; payloads must stay under Pusher's 10 KB.

export type WireMessage = {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string | null;
  senderName: string | null;
  senderAvatarUrl: string | null;
  clientMsgId: string | null;
  kind: "text" | "system";
  body: string;
  meta: Record<string, unknown> | null;
  createdAt: string;
  // History and message.changes always fill these; a live message.new may leave out what it cannot have yet.
  editedAt?: string | null;
  /** A tombstone: body is empty and reactions are gone. */
  deletedAt?: string | null;
  reactions?: ReactionSummary[];
  replyTo?: ReplyPreview | null;
  /** The first link's preview once fetched; null when none (or the sender removed it). */
  linkPreview?: WireLinkPreview | null;
  /** Files the message carries, in the order sent; absent on system messages. */
  attachments?: WireAttachment[];
};

export type WireLinkPreview = {
  url: string;
  title: string | null;
  description: string | null;
  siteName: string | null;
  imageUrl: string | null;
};

/** An attachment's metadata; bytes are at /api/files/{id} (and /thumbnail when `thumbnail`). */
export type WireAttachment = {
  id: string;
  name: string;
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  thumbnail: boolean;
};

/** One emoji under a message: how many reacted, and whether the caller did. */
export type ReactionSummary = { emoji: string; count: number; me: boolean };

/** What a reply shows of its original; preview and senderName are null when it was deleted. */
export type ReplyPreview = { seq: number; senderName: string | null; preview: string | null; deleted: boolean };

/**
 * The new state of an old message (edit, delete, reaction) for everyone in
 * the conversation. `me` differs per reader, so reactions carry counts only and
 * `reaction` names whose reaction changed; each client keeps its own flags.
 */
export type MessageUpdate = {
  conversationId: string;
  seq: number;
  changeSeq: number;
  body: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: { emoji: string; count: number }[];
  reaction: { userId: string; emoji: string; on: boolean } | null;
  /** Present when the link preview changed: fetched after the send, or removed by the sender. */
  linkPreview?: WireLinkPreview | null;
};

/** A message.updated too large for Pusher: the client fetches it with message.changes. */
export type MessageUpdateRef = { conversationId: string; seq: number; changeSeq: number; ref: true };

/** A message.new too large for Pusher: ids only, the client fetches it with message.history. */
export type WireMessageRef = { id: string; conversationId: string; seq: number; ref: true };

export interface RealtimeEvents {
  "message.new": WireMessage | WireMessageRef;
  /** An old message was edited, deleted or reacted to. */
  "message.updated": MessageUpdate | MessageUpdateRef;
  /** A conversation the user belongs to appeared (a DM opened by a peer, a group joined). */
  "conversation.new": { conversationId: string };
  /** A conversation's receipts moved: clients refetch receipts for it. */
  "receipts.changed": { conversationId: string; upToSeq: number };
  /** The user's own read position moved on another device; `back` when marked unread on purpose. */
  "read.changed": { conversationId: string; readSeq: number; back?: true };
  /** The user changed a conversation's notification level or snooze on another device (muting is level none). */
  "notifications.changed": {
    conversationId: string;
    level: "all" | "mentions" | "none";
    levelSet: "all" | "mentions" | "none" | null;
    snoozeUntil: string | null;
    muted: boolean;
  };
  /** The user changed their notification defaults or preview choice: refetch the list. */
  "notification-settings.changed": {
    dmLevel: "all" | "mentions" | "none";
    groupLevel: "all" | "mentions" | "none" | "auto";
    preview: boolean;
  };
  /** Group info or membership changed: call sync.since with your last version. */
  sync: { version: number };
  presence: { userId: string; status: "online" | "away" | "busy" | "offline"; lastSeenAt: string | null };
  /** Published by the server for conversation.typing (the typist is the session's user), never stored; `typing: false` clears it at once (sent, blurred). */
  typing: { userId: string; name: string; typing: boolean };
  /** Never reaches a client: the publisher closes the user's sockets instead (a former member's live channels). */
  "connections.end": { userId: string };
}

export type RealtimeEventName = keyof RealtimeEvents;

/** Pusher rejects events over 10 KB; larger ones carry ids only. */
export const MAX_EVENT_BYTES = 10_000;
