import { and, inArray, isNull, eq } from "drizzle-orm";
import { z } from "zod";
import { members } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import type { ChannelAuthResult } from "./client";
import { parseChannel } from "./channels";
import type { Publisher } from "./publisher";

// A user in thousands of conversations still authorizes in a few requests.
export const MAX_CHANNELS_PER_AUTH = 500;

const socketId = z.string().regex(/^\d+\.\d+$/, "socket_id is malformed");
const channelName = z.string().min(1).max(200);
const batchBody = z.object({ socket_id: socketId, channels: z.array(channelName).min(1).max(MAX_CHANNELS_PER_AUTH) });
const singleBody = z.object({ socket_id: socketId, channel_name: channelName });

export type ChannelAuthRequest = { socketId: string; channels: string[]; batch: boolean } | { error: string };

export async function parseChannelAuthRequest(req: Request): Promise<ChannelAuthRequest> {
  const type = req.headers.get("content-type") ?? "";
  let raw: unknown;
  try {
    raw = type.includes("application/json")
      ? await req.json()
      : Object.fromEntries(new URLSearchParams(await req.text()).entries());
  } catch {
    return { error: "Malformed request body" };
  }
  const batch = batchBody.safeParse(raw);
  if (batch.success) return { socketId: batch.data.socket_id, channels: batch.data.channels, batch: true };
  const single = singleBody.safeParse(raw);
  if (single.success) return { socketId: single.data.socket_id, channels: [single.data.channel_name], batch: false };
  return { error: batch.error.issues[0]?.message ?? "Malformed request body" };
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
    const rows = await db
      .select({ conversationId: members.conversationId })
      .from(members)
      .where(and(eq(members.userId, userId), inArray(members.conversationId, conversationIds), isNull(members.leftAt)));
    for (const row of rows) allowed.add(row.conversationId);
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
