import { getSessionUser } from "@/server/auth/options";
import { getAppDb } from "@/server/db";
import { tooLarge } from "@/server/http";
import { authorizeChannels, parseChannelAuthRequest } from "@/server/realtime/authorize";
import { getPublisher } from "@/server/realtime/publisher";

export const dynamic = "force-dynamic";

/**
 * Signs private channel subscriptions. Accepts pusher-js's one-channel form
 * (socket_id, channel_name) and a batch ({ socket_id, channels: [...] }).
 */
export async function POST(req: Request) {
  const oversize = tooLarge(req);
  if (oversize) return oversize;
  const user = await getSessionUser();
  if (!user) return Response.json({ error: "Sign in first" }, { status: 401 });
  const parsed = await parseChannelAuthRequest(req);
  if ("error" in parsed) return Response.json({ error: parsed.error }, { status: 400 });
  const results = await authorizeChannels(await getAppDb(), getPublisher(), user.id, parsed.socketId, parsed.channels);
  if (parsed.batch) return Response.json({ channels: results });
  const result = results[parsed.channels[0]];
  if ("auth" in result) return Response.json(result);
  return Response.json({ error: result.error }, { status: result.status });
}
