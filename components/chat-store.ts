"use client";
import type { QueryClient } from "@tanstack/react-query";
import type { MessageUpdate, ReplyPreview, WireAttachment, WireMessage } from "@/server/realtime/events";

// Client-side chat state lives in the TanStack Query cache under these keys;
// realtime events, sends and history loads all merge into the same entries.

export type ConversationItem = {
  id: string;
  kind: "dm" | "group";
  title: string;
  avatarUrl: string | null;
  /** The other person of a DM. */
  peerId: string | null;
  peerUsername: string | null;
  lastSeq: number;
  lastMessageAt: string | null;
  preview: string | null;
  previewSenderId: string | null;
  previewSenderName: string | null;
  unread: number;
  mentions: number;
  /** Notification level none: grey badge, out of the title count. */
  muted: boolean;
  notifications: {
    level: "all" | "mentions" | "none";
    levelSet: "all" | "mentions" | "none" | null;
    snoozeUntil: string | null;
    muted: boolean;
  };
  memberCount: number;
  /** Derived: lastSeq - unread (the effective read position). */
  readSeq: number;
};

export type PendingMessage = {
  clientMsgId: string;
  body: string;
  /** Uploaded files the message carries (already on the server, unattached until the send). */
  attachments?: WireAttachment[];
  createdAt: string;
  status: "pending" | "failed";
  error: string | null;
  /** The message this one answers, as the reply will show it. */
  replyTo?: ReplyPreview | null;
};

export type MessagesState = {
  /** Ascending by seq, one entry per seq. */
  items: WireMessage[];
  hasOlder: boolean;
  pending: PendingMessage[];
  /** The conversation's change count the loaded items are current to: message.changes starts here. */
  changeSeq: number;
  /** Messages up to this seq were removed by retention (0 or absent: none). */
  removedThroughSeq?: number;
};

export const chatKeys = {
  all: ["chorus"] as const,
  conversations: () => ["chorus", "conversations"] as const,
  messages: (conversationId: string) => ["chorus", "messages", conversationId] as const,
  receipts: (conversationId: string) => ["chorus", "receipts", conversationId] as const,
  syncVersion: () => ["chorus", "sync-version"] as const,
  notificationSettings: () => ["chorus", "notification-settings"] as const,
};

export const PAGE_SIZE = 50;

/** Merges messages into a sorted list, dropping duplicates by seq. */
export function mergeMessages(existing: WireMessage[], incoming: WireMessage[]): WireMessage[] {
  if (incoming.length === 0) return existing;
  const bySeq = new Map<number, WireMessage>();
  for (const m of existing) bySeq.set(m.seq, m);
  let changed = false;
  for (const m of incoming) {
    if (!bySeq.has(m.seq)) {
      bySeq.set(m.seq, m);
      changed = true;
    }
  }
  if (!changed) return existing;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Replaces loaded messages by newer states of them (message.changes); seqs not loaded stay out. */
export function replaceMessages(existing: WireMessage[], changed: WireMessage[]): WireMessage[] {
  if (changed.length === 0) return existing;
  const bySeq = new Map(changed.map((m) => [m.seq, m]));
  let touched = false;
  const next = existing.map((m) => {
    const newer = bySeq.get(m.seq);
    if (!newer) return m;
    touched = true;
    return newer;
  });
  return refreshQuotes(touched ? next : existing, changed);
}

/**
 * Replies quote their original: when it is edited or deleted, the quotes of
 * loaded replies follow (the replies themselves did not change on the server).
 */
export function refreshQuotes(
  items: WireMessage[],
  originals: Pick<WireMessage, "seq" | "body" | "deletedAt">[],
): WireMessage[] {
  const bySeq = new Map(originals.map((o) => [o.seq, o]));
  let touched = false;
  const next = items.map((m) => {
    const original = m.replyTo ? bySeq.get(m.replyTo.seq) : undefined;
    if (!m.replyTo || !original || m.replyTo.preview === null) return m;
    const replyTo = original.deletedAt
      ? { seq: original.seq, senderName: null, preview: null, deleted: true }
      : { ...m.replyTo, preview: previewOf(original) };
    if (replyTo.preview === m.replyTo.preview && replyTo.deleted === m.replyTo.deleted) return m;
    touched = true;
    return { ...m, replyTo };
  });
  return touched ? next : items;
}

/**
 * Applies a live message.updated to the loaded messages. Counts come from
 * the event; the "me" flags stay this client's own, except for the emoji
 * whose reaction was mine.
 */
export function applyUpdate(existing: WireMessage[], u: MessageUpdate, meId: string): WireMessage[] {
  const index = existing.findIndex((m) => m.seq === u.seq);
  const m = existing[index];
  // The original may be scrolled out of what is loaded while replies quoting it are not.
  if (!m) return refreshQuotes(existing, [{ seq: u.seq, body: u.body, deletedAt: u.deletedAt }]);
  const mine = new Set((m.reactions ?? []).filter((r) => r.me).map((r) => r.emoji));
  if (u.reaction?.userId === meId) {
    if (u.reaction.on) mine.add(u.reaction.emoji);
    else mine.delete(u.reaction.emoji);
  }
  const next: WireMessage = {
    ...m,
    body: u.body,
    editedAt: u.editedAt,
    deletedAt: u.deletedAt,
    reactions: u.deletedAt ? [] : u.reactions.map((r) => ({ ...r, me: mine.has(r.emoji) })),
    // Present only when the link preview changed (fetched after the send, or removed).
    ...(u.linkPreview !== undefined ? { linkPreview: u.linkPreview } : {}),
    ...(u.deletedAt ? { linkPreview: null, attachments: [] } : {}),
  };
  const copy = [...existing];
  copy[index] = next;
  return refreshQuotes(copy, [next]);
}

/** A reaction toggled here, shown before the server answers (its answer or event then settles the count). */
export function toggleReactionLocally(existing: WireMessage[], seq: number, emoji: string, on: boolean): WireMessage[] {
  return existing.map((m) => {
    if (m.seq !== seq) return m;
    const reactions = [...(m.reactions ?? [])];
    const i = reactions.findIndex((r) => r.emoji === emoji);
    const current = reactions[i];
    if (on && !current) reactions.push({ emoji, count: 1, me: true });
    else if (on && current && !current.me) reactions[i] = { ...current, count: current.count + 1, me: true };
    else if (!on && current?.me) {
      if (current.count <= 1) reactions.splice(i, 1);
      else reactions[i] = { ...current, count: current.count - 1, me: false };
    }
    return { ...m, reactions };
  });
}

export function getMessages(qc: QueryClient, conversationId: string): MessagesState | undefined {
  return qc.getQueryData<MessagesState>(chatKeys.messages(conversationId));
}

export function setMessages(qc: QueryClient, conversationId: string, update: (s: MessagesState) => MessagesState) {
  qc.setQueryData<MessagesState>(chatKeys.messages(conversationId), (s) => (s ? update(s) : s));
}

/** Adds confirmed messages to a loaded conversation and retires their pending copies. */
export function addMessages(qc: QueryClient, conversationId: string, incoming: WireMessage[]) {
  const ids = new Set(incoming.map((m) => m.clientMsgId).filter(Boolean));
  setMessages(qc, conversationId, (s) => ({
    ...s,
    items: mergeMessages(s.items, incoming),
    pending: ids.size ? s.pending.filter((p) => !ids.has(p.clientMsgId)) : s.pending,
  }));
}

export function setPending(qc: QueryClient, conversationId: string, pending: PendingMessage) {
  setMessages(qc, conversationId, (s) => ({
    ...s,
    pending: s.pending.some((p) => p.clientMsgId === pending.clientMsgId)
      ? s.pending.map((p) => (p.clientMsgId === pending.clientMsgId ? pending : p))
      : [...s.pending, pending],
  }));
}

export function removePending(qc: QueryClient, conversationId: string, clientMsgId: string) {
  setMessages(qc, conversationId, (s) => ({ ...s, pending: s.pending.filter((p) => p.clientMsgId !== clientMsgId) }));
}

export function updateConversation(
  qc: QueryClient,
  conversationId: string,
  update: (c: ConversationItem) => ConversationItem,
): boolean {
  let found = false;
  qc.setQueryData<ConversationItem[]>(chatKeys.conversations(), (list) =>
    list?.map((c) => {
      if (c.id !== conversationId) return c;
      found = true;
      return update(c);
    }),
  );
  return found;
}

export function previewOf(m: Pick<WireMessage, "body">): string {
  const oneLine = m.body.replace(/\s+/g, " ").trim();
  return oneLine.length > 140 ? `${oneLine.slice(0, 139)}…` : oneLine;
}

/** Moves the list entry forward for a new message; returns false when the conversation is unknown. */
export function applyMessageToList(
  qc: QueryClient,
  m: WireMessage,
  me: { id: string; username: string } | null,
): boolean {
  return updateConversation(qc, m.conversationId, (c) => {
    if (m.seq <= c.lastSeq) return c;
    const own = me !== null && m.senderId === me.id;
    const readSeq = own ? m.seq : c.readSeq;
    const mentioned =
      !own && me !== null && m.kind === "text" && mentionsUser(m.body, me.username) && m.seq > c.readSeq;
    return {
      ...c,
      lastSeq: m.seq,
      lastMessageAt: m.createdAt,
      preview: previewOf(m),
      previewSenderId: m.senderId,
      previewSenderName: m.senderName,
      readSeq,
      unread: Math.max(0, m.seq - readSeq),
      mentions: own ? 0 : c.mentions + (mentioned ? 1 : 0),
    };
  });
}

/** Marked unread on purpose: the one backward move of the read position. */
export function applyUnreadToList(qc: QueryClient, conversationId: string, readSeq: number) {
  updateConversation(qc, conversationId, (c) =>
    readSeq >= c.readSeq ? c : { ...c, readSeq, unread: Math.max(0, c.lastSeq - readSeq) },
  );
}

/** Moves the local read position forward (never back). */
export function applyReadToList(qc: QueryClient, conversationId: string, readSeq: number) {
  updateConversation(qc, conversationId, (c) => {
    if (readSeq <= c.readSeq) return c;
    const unread = Math.max(0, c.lastSeq - readSeq);
    return { ...c, readSeq, unread, mentions: unread === 0 ? 0 : c.mentions };
  });
}

export function mentionsUser(body: string, username: string): boolean {
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w@])@(${escaped}|all|here)\\b`, "i").test(body);
}

export function sortConversations(list: ConversationItem[]): ConversationItem[] {
  return [...list].sort((a, b) => {
    const ta = a.lastMessageAt ? Date.parse(a.lastMessageAt) : 0;
    const tb = b.lastMessageAt ? Date.parse(b.lastMessageAt) : 0;
    return tb - ta || a.title.localeCompare(b.title);
  });
}

export function newClientMsgId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // Pages served over plain http on a LAN address have no randomUUID.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function errorText(e: unknown): string {
  if (e && typeof e === "object" && "data" in e) {
    const data = (e as { data?: { zodError?: { fieldErrors?: Record<string, string[]>; formErrors?: string[] } } })
      .data;
    const first = Object.values(data?.zodError?.fieldErrors ?? {})[0]?.[0] ?? data?.zodError?.formErrors?.[0];
    if (first) return first;
  }
  if (e instanceof Error && e.message) {
    if (/failed to fetch|networkerror|load failed/i.test(e.message)) return "No connection";
    return e.message;
  }
  return "Something went wrong";
}

export function errorCode(e: unknown): string | null {
  if (e && typeof e === "object" && "data" in e) {
    return (e as { data?: { code?: string } }).data?.code ?? null;
  }
  return null;
}
