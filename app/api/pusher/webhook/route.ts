import { getAppDb } from "@/server/db";
import { logger } from "@/server/logger";
import { handlePusherWebhook } from "@/server/presence/webhook";
import { realtimeServerConfig } from "@/server/realtime/config";
import { getPublisher } from "@/server/realtime/publisher";

export const dynamic = "force-dynamic";

/** Soketi's channel_occupied / channel_vacated webhooks: presence of users' own channels. */
export async function POST(req: Request) {
  const config = realtimeServerConfig();
  try {
    return await handlePusherWebhook(req, {
      db: await getAppDb(),
      publisher: getPublisher(),
      credentials: { key: config.key, secret: config.secret },
    });
  } catch (error) {
    logger.child({ domain: "presence" }).error({ err: error }, "webhook failed");
    return Response.json({ error: "Webhook could not be applied" }, { status: 500 });
  }
}
