import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";
import type { ChannelAuthResult } from "@/lib/realtime-client";
import { uuidArray } from "../groups/changes";
import { parseChannel } from "./channels";
import type { Publisher } from "./publisher";

// A user in thousands of conversations still authorizes in a few requests.
export const MAX_CHANNELS_PER_AUTH = 500;

const socketId = z.string().regex(/^\d+\.\d+$/, "socket_id is malformed");
const channelName = z.string().min(1, "a channel name is empty").max(200, "a channel name is too long");
const batchBody = z.object({
  socket_id: socketId,
  channels: z
    .array(channelName)
    .min(1, "name at least one channel")
    .max(MAX_CHANNELS_PER_AUTH, `at most ${MAX_CHANNELS_PER_AUTH} channels per request`),
});
const singleBody = z.object({ socket_id: socketId, channel_name: channelName });

export type ChannelAuthRequest = { socketId: string; channels: string[]; batch: boolean } | { error: string };

/** The body of POST /api/pusher/auth, already read (and size-capped) by the HTTP layer. */
/** The body of a Soketi auth request, JSON or the form pusher-js sends, as an object (or what is wrong with it). */
export function readAuthBody(contentType: string, rawBody: string): { fields: object } | { error: string } {
  let raw: unknown;
  try {
    raw = contentType.includes("application/json")
      ? JSON.parse(rawBody)
      : Object.fromEntries(new URLSearchParams(rawBody).entries());
  } catch {
    return { error: "Request body is not valid JSON" };
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { error: "Request body must be an object" };
  return { fields: raw };
}

export function parseChannelAuthRequest(contentType: string, rawBody: string): ChannelAuthRequest {
  const body = readAuthBody(contentType, rawBody);
  if ("error" in body) return body;
  const raw = body.fields;
  // The form decides which rules apply, so a mistake is named in the form the client used.
  if ("channels" in raw) {
    const batch = batchBody.safeParse(raw);
    if (batch.success) return { socketId: batch.data.socket_id, channels: batch.data.channels, batch: true };
    return { error: describeIssue(batch.error.issues[0], "channels") };
  }
  const single = singleBody.safeParse(raw);
  if (single.success) return { socketId: single.data.socket_id, channels: [single.data.channel_name], batch: false };
  return { error: describeIssue(single.error.issues[0], "channel_name") };
}

function describeIssue(issue: z.core.$ZodIssue | undefined, field: string): string {
  if (!issue) return "Malformed request body";
  const name = issue.path[0] === "socket_id" ? "socket_id" : issue.path.length > 0 ? field : "body";
  if (issue.code === "invalid_type") return `${name} is missing or has the wrong type`;
  return name === "socket_id" ? "socket_id is malformed" : `${name}: ${issue.message}`;
}

/**
 * Signs each channel the user may subscribe to; the others are answered as
 * denied, one by one. Membership of all requested conversations is one query.
 */
export async function authorizeChannels(
  db: DbOrTx,
  publisher: Publisher,
  userId: string,
  socketId: string,
  channels: string[],
): Promise<Record<string, ChannelAuthResult>> {
  const parsed = channels.map((name) => ({ name, channel: parseChannel(name) }));
  const conversationIds = parsed.flatMap((p) => (p.channel?.kind === "conversation" ? [p.channel.conversationId] : []));
  const allowed = new Set<string>();
  if (conversationIds.length > 0) {
    // One array parameter whatever the number of channels (parseChannel admits UUIDs only).
    const rows = await queryRows<{ conversation_id: string }>(
      db,
      sql`select conversation_id from members
          where user_id = ${userId} and conversation_id = any(${uuidArray(conversationIds)}) and left_at is null`,
    );
    for (const row of rows) allowed.add(row.conversation_id);
  }
  const results: Record<string, ChannelAuthResult> = {};
  for (const { name, channel } of parsed) {
    const ok =
      (channel?.kind === "user" && channel.userId === userId) ||
      (channel?.kind === "conversation" && allowed.has(channel.conversationId));
    results[name] = ok
      ? publisher.authorizeChannel(socketId, name)
      : { error: channel ? "Not allowed to subscribe to this channel" : "Unknown channel", status: 403 };
  }
  return results;
}
