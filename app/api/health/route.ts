import { sql } from "drizzle-orm";
import { getAppDb } from "@/server/db";
import { logger } from "@/server/logger";

export const dynamic = "force-dynamic";

/** Liveness and database reachability, for compose and load balancers. */
export async function GET() {
  try {
    const db = await getAppDb();
    await db.execute(sql`select 1`);
    return Response.json({ ok: true });
  } catch (error) {
    logger.error({ err: error }, "health check failed");
    return Response.json({ ok: false }, { status: 503 });
  }
}
