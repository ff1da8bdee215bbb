// The one place channel names are built and parsed.
const USER_PREFIX = "private-user-";
const CONVERSATION_PREFIX = "private-conversation-";

export const userChannel = (userId: string) => `${USER_PREFIX}${userId}`;
export const conversationChannel = (conversationId: string) => `${CONVERSATION_PREFIX}${conversationId}`;

export type ParsedChannel = { kind: "user"; userId: string } | { kind: "conversation"; conversationId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseChannel(name: string): ParsedChannel | null {
  if (name.startsWith(USER_PREFIX)) {
    const userId = name.slice(USER_PREFIX.length);
    return UUID.test(userId) ? { kind: "user", userId } : null;
  }
  if (name.startsWith(CONVERSATION_PREFIX)) {
    const conversationId = name.slice(CONVERSATION_PREFIX.length);
    return UUID.test(conversationId) ? { kind: "conversation", conversationId } : null;
  }
  return null;
}
