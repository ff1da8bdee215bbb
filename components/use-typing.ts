"use client";
/**
 * Typing indicators for one conversation.
 *
 *   const { typingUsers, label, notifyTyping, stopTyping, enabled } = useTyping(conversationId, memberCount);
 *   // third argument (optional): { id, name } of the signed-in user; by default from user.me.
 *
 *   <Composer onTyping={notifyTyping} onStopTyping={stopTyping} />   // call stopTyping on send and blur
 *   {label && <div data-testid="typing-indicator">{label}</div>}
 *
 * - notifyTyping(): on each keystroke that leaves text; calls conversation.typing at most every 3 s
 *   and stops by itself after 5 s without input. The server publishes `typing` naming the session's user.
 * - stopTyping(): on send, blur or an emptied box; peers clear the indicator at once.
 * - typingUsers: who is typing now (never yourself); a peer drops out 6 s after their last
 *   event, or as soon as their message arrives.
 * - label: "Alice is typing…", "Alice and Bob are typing…", "Several people are typing…", or null.
 * - enabled: false for groups above TYPING_MAX_MEMBERS (default 100): nothing is sent or shown.
 *
 * The conversation channel is subscribed by the chat (realtime-sync); this hook only binds to it
 * (subscribing if needed) and never unsubscribes. Typing is never stored on the server.
 */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { conversationChannel } from "@/server/realtime/channels";
import type { RealtimeEvents } from "@/server/realtime/events";
import {
  createTypingReceiver,
  createTypingSender,
  TYPING_EVENT,
  type TypingPayload,
  type TypingSender,
  type TypingUser,
  typingEnabled,
  typingLabel,
} from "./typing";
import { usePresenceSettings } from "./use-presence";
import { useRealtime } from "./realtime";
import { useTRPC, useTRPCClient } from "./trpc";

export type UseTyping = {
  typingUsers: TypingUser[];
  label: string | null;
  notifyTyping: () => void;
  stopTyping: () => void;
  enabled: boolean;
};

export function useTyping(
  conversationId: string | null,
  memberCount: number,
  selfOverride?: { id: string; name: string } | null,
): UseTyping {
  const { pusher } = useRealtime();
  const trpc = useTRPC();
  const client = useTRPCClient();
  // The signed-in user, from the query the app shell already made.
  const me = useQuery(
    trpc.user.me.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY, enabled: selfOverride === undefined }),
  );
  const self =
    selfOverride !== undefined ? selfOverride : me.data ? { id: me.data.id, name: me.data.displayName } : null;
  const { typingMaxMembers } = usePresenceSettings();
  const enabled = Boolean(conversationId && self && pusher) && typingEnabled(memberCount, typingMaxMembers);
  const [typingUsers, setTypingUsers] = useState<TypingUser[]>([]);
  const sender = useRef<TypingSender | null>(null);
  const selfId = self?.id ?? "";

  useEffect(() => {
    if (!enabled || !pusher || !conversationId) return;
    const name = conversationChannel(conversationId);
    const channel = pusher.channel(name) ?? pusher.subscribe(name);
    // One call at a time, so a stop never overtakes its start. Best effort: a lost one expires in the receivers.
    let last: Promise<unknown> = Promise.resolve();
    const current = createTypingSender({
      send: (typing) => {
        last = last.then(() => client.conversation.typing.mutate({ conversationId, typing })).catch(() => undefined);
        return true;
      },
    });
    const receiver = createTypingReceiver({ selfId, onChange: setTypingUsers });
    const onTyping = (payload: TypingPayload) => receiver.receive(payload);
    const onMessage = (message: RealtimeEvents["message.new"]) =>
      receiver.clear("senderId" in message ? message.senderId : null);
    channel.bind(TYPING_EVENT, onTyping);
    channel.bind("message.new", onMessage);
    sender.current = current;
    return () => {
      current.dispose();
      receiver.dispose();
      channel.unbind(TYPING_EVENT, onTyping);
      channel.unbind("message.new", onMessage);
      if (sender.current === current) sender.current = null;
      setTypingUsers([]);
    };
  }, [enabled, pusher, conversationId, selfId, client]);

  const notifyTyping = useCallback(() => sender.current?.notify(), []);
  const stopTyping = useCallback(() => sender.current?.stop(), []);
  return { typingUsers, label: typingLabel(typingUsers), notifyTyping, stopTyping, enabled };
}
