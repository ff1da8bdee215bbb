import { readAuthBody } from "./authorize";
import type { Publisher } from "./publisher";

export type UserAuthRequest = { socketId: string } | { error: string };

const SOCKET_ID = /^\d+\.\d+$/;

/**
 * The body of POST /api/pusher/user-auth (pusher-js sends `socket_id` as a
 * form). Anything else in it, a user id above all, is ignored: a socket is
 * only ever signed in as the session's own user.
 */
export function parseUserAuthRequest(contentType: string, rawBody: string): UserAuthRequest {
  const body = readAuthBody(contentType, rawBody);
  if ("error" in body) return body;
  const socketId = (body.fields as { socket_id?: unknown }).socket_id;
  if (typeof socketId !== "string") return { error: "socket_id is missing or has the wrong type" };
  if (!SOCKET_ID.test(socketId)) return { error: "socket_id is malformed" };
  return { socketId };
}

/**
 * Signs a socket in as the signed-in user. Soketi closes sockets that do not
 * sign in, so every socket is one it can find again when the user's access
 * ends (removal, leaving a group) and close at once.
 */
export function authenticateSocket(
  publisher: Publisher,
  options: { userId: string; socketId: string },
): { auth: string; user_data: string } {
  return publisher.authenticateUser(options.socketId, options.userId);
}
