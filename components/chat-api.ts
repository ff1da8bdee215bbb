"use client";
import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "@/server/api/root";
import type { NotificationSettings, NotificationState } from "@/server/notifications/levels";
import type { WireMessage } from "@/server/realtime/events";
import type { ConversationItem } from "./chat-store";

export type { NotificationSettings };
export type ConversationNotifications = NotificationState;
/** A conversation's own level, or "default" to follow the user's default. */
export type NotifyChoice = "all" | "mentions" | "none" | "default";

type Client = TRPCClient<AppRouter>;

export type Receipt = {
  seq: number;
  delivered: number;
  read: number;
  /** Everyone who could read it (members other than the sender). */
  recipients: number;
  /** Small groups: who has read it. */
  readers: { id: string; name: string }[] | null;
};

const LIST_PAGE = 100;
const LIST_MAX_PAGES = 20;

/** The UI's view of the server API: one place maps router outputs to UI types. */
export function createChatApi(client: Client) {
  return {
    async listConversations(): Promise<ConversationItem[]> {
      const all: ConversationItem[] = [];
      let cursor: string | null | undefined;
      for (let page = 0; page < LIST_MAX_PAGES; page++) {
        const res = await client.conversation.list.query({ limit: LIST_PAGE, ...(cursor ? { cursor } : {}) });
        for (const c of res.items) all.push(toConversationItem(c));
        cursor = res.nextCursor;
        if (!cursor) break;
      }
      return all;
    },

    async getConversation(conversationId: string) {
      return client.conversation.get.query({ conversationId });
    },

    async history(
      conversationId: string,
      opts: { beforeSeq?: number; afterSeq?: number; limit: number },
    ): Promise<{ messages: WireMessage[]; hasMore: boolean; changeSeq: number; removedThroughSeq: number }> {
      const res = await client.message.history.query({ conversationId, ...opts });
      return {
        messages: [...res.messages].sort((a, b) => a.seq - b.seq),
        hasMore: res.hasMore,
        changeSeq: res.changeSeq,
        removedThroughSeq: res.removedThroughSeq,
      };
    },

    async send(
      conversationId: string,
      clientMsgId: string,
      body: string,
      replyToSeq?: number | null,
      attachments: string[] = [],
    ) {
      return client.message.send.mutate({
        conversationId,
        clientMsgId,
        body,
        replyToSeq: replyToSeq ?? undefined,
        ...(attachments.length > 0 ? { attachments } : {}),
      });
    },

    async changes(conversationId: string, since: number) {
      return client.message.changes.query({ conversationId, since });
    },

    async edit(conversationId: string, seq: number, body: string) {
      return client.message.edit.mutate({ conversationId, seq, body });
    },

    async remove(conversationId: string, seq: number) {
      return client.message.delete.mutate({ conversationId, seq });
    },

    async react(conversationId: string, seq: number, emoji: string, on: boolean) {
      return client.message.react.mutate({ conversationId, seq, emoji, on });
    },

    async reactors(conversationId: string, seq: number, emoji: string) {
      return client.message.reactions.query({ conversationId, seq, emoji, limit: 10 });
    },

    async markUnread(conversationId: string, seq: number) {
      return client.message.markUnread.mutate({ conversationId, seq });
    },

    async searchMembers(conversationId: string, query: string) {
      return client.conversation.searchMembers.query({ conversationId, query, limit: 8 });
    },

    async mentions() {
      return client.message.mentions.query({ limit: 50 });
    },

    async search(input: Parameters<Client["message"]["search"]["query"]>[0]) {
      return client.message.search.query(input);
    },

    async removePreview(conversationId: string, seq: number) {
      return client.message.removePreview.mutate({ conversationId, seq });
    },

    async markRead(conversationId: string, seq: number) {
      return client.message.markRead.mutate({ conversationId, seq });
    },

    async markDelivered(items: { conversationId: string; seq: number }[]) {
      return client.message.markDelivered.mutate({ items });
    },

    async receipts(conversationId: string, fromSeq: number, toSeq: number): Promise<Receipt[]> {
      const res = await client.message.receipts.query({ conversationId, fromSeq, toSeq });
      const names = new Map(res.readers.map((u) => [u.id, u.displayName]));
      return res.items.map((r) => ({
        seq: r.seq,
        delivered: r.delivered,
        read: r.read,
        recipients: r.recipients,
        readers: r.readBy ? r.readBy.map((id) => ({ id, name: names.get(id) ?? "Someone" })) : null,
      }));
    },

    async mute(conversationId: string, muted: boolean) {
      return client.conversation.mute.mutate({ conversationId, muted });
    },

    async setNotifications(
      conversationId: string,
      level: NotifyChoice,
      snoozeUntil?: string | null,
    ): Promise<ConversationNotifications> {
      return client.conversation.setNotifications.mutate({ conversationId, level, snoozeUntil });
    },

    async notificationSettings(): Promise<NotificationSettings> {
      return client.notification.settings.query();
    },

    async updateNotificationSettings(input: Partial<NotificationSettings>): Promise<NotificationSettings> {
      return client.notification.updateSettings.mutate(input);
    },

    push: {
      publicKey: async () => (await client.push.publicKey.query()).publicKey,
      subscribe: (subscription: { endpoint: string; keys: { p256dh: string; auth: string } }) =>
        client.push.subscribe.mutate(subscription),
      unsubscribe: (endpoint: string) => client.push.unsubscribe.mutate({ endpoint }),
    },

    async syncSince(version: number) {
      return client.sync.since.query({ version });
    },
  };
}

export type ChatApi = ReturnType<typeof createChatApi>;

type ListOutput = Awaited<ReturnType<Client["conversation"]["list"]["query"]>>;

function toConversationItem(c: ListOutput["items"][number]): ConversationItem {
  const peer = c.kind === "dm" ? c.peer : null;
  const mentions = "mentions" in c ? Number(c.mentions) : 0;
  return {
    id: c.id,
    kind: c.kind,
    title: (peer ? peer.displayName : c.name) ?? "Conversation",
    avatarUrl: (peer ? peer.avatarUrl : c.avatarUrl) ?? null,
    peerId: peer?.id ?? null,
    peerUsername: peer?.username ?? null,
    lastSeq: c.lastSeq,
    lastMessageAt: c.lastMessageAt,
    preview: c.lastMessagePreview,
    previewSenderId: c.lastMessageSender?.id ?? null,
    previewSenderName: c.lastMessageSender?.displayName ?? null,
    unread: c.unread,
    mentions: Number.isFinite(mentions) ? mentions : 0,
    muted: c.muted,
    notifications: c.notifications,
    memberCount: c.memberCount,
    readSeq: c.lastSeq - c.unread,
  };
}
