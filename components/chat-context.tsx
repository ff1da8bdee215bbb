"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext } from "react";
import { AckQueue } from "./ack-queue";
import type { ChatApi } from "./chat-api";
import { applyReadToList, chatKeys, type ConversationItem } from "./chat-store";

export type Me = { id: string; username: string; displayName: string; avatarUrl: string | null };

export type ChatContextValue = {
  me: Me;
  api: ChatApi;
  acks: AckQueue;
  /** Highest read seq this client has acknowledged per conversation, so a list refetch racing an unsent ack does not bring a badge back. */
  localRead: Map<string, number>;
  activeId: string | null;
  navigate: (conversationId: string | null) => void;
};

export const ChatContext = createContext<ChatContextValue | null>(null);

export function useChat(): ChatContextValue {
  const value = useContext(ChatContext);
  if (!value) throw new Error("useChat must be used inside <ChatContext>");
  return value;
}

export function createAcks(api: ChatApi) {
  return new AckQueue({
    markDelivered: (items) => api.markDelivered(items),
    markRead: (conversationId, seq) => api.markRead(conversationId, seq),
  });
}

export function useConversations() {
  const { api, localRead } = useChat();
  const qc = useQueryClient();
  return useQuery({
    queryKey: chatKeys.conversations(),
    queryFn: async (): Promise<ConversationItem[]> => {
      const list = await api.listConversations();
      // Events that arrived while the request was in flight are newer than its answer: keep them.
      const live = new Map((qc.getQueryData<ConversationItem[]>(chatKeys.conversations()) ?? []).map((c) => [c.id, c]));
      return list.map((fetched) => {
        const cached = live.get(fetched.id);
        const c =
          cached && cached.lastSeq > fetched.lastSeq
            ? {
                ...fetched,
                lastSeq: cached.lastSeq,
                lastMessageAt: cached.lastMessageAt,
                preview: cached.preview,
                previewSenderId: cached.previewSenderId,
                previewSenderName: cached.previewSenderName,
                mentions: Math.max(cached.mentions, fetched.mentions),
              }
            : fetched;
        const readSeq = Math.max(c.readSeq, localRead.get(c.id) ?? 0, cached?.readSeq ?? 0);
        const unread = Math.max(0, c.lastSeq - readSeq);
        return { ...c, readSeq, unread, mentions: unread === 0 ? 0 : c.mentions };
      });
    },
    staleTime: 60_000,
  });
}

export function useConversation(conversationId: string | null): ConversationItem | null {
  const list = useConversations();
  return list.data?.find((c) => c.id === conversationId) ?? null;
}

/** Marks a conversation read up to `seq`: the badge clears at once, the server hears it in the next batch. */
export function useMarkRead() {
  const qc = useQueryClient();
  const { acks, localRead } = useChat();
  return (conversationId: string, seq: number) => {
    const known = qc.getQueryData<ConversationItem[]>(chatKeys.conversations())?.find((c) => c.id === conversationId);
    if (seq <= Math.max(localRead.get(conversationId) ?? 0, known?.readSeq ?? 0)) return;
    localRead.set(conversationId, seq);
    applyReadToList(qc, conversationId, seq);
    acks.markRead(conversationId, seq);
  };
}
