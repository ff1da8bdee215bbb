import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { getSessionUser } from "@/server/auth/options";
import { getAppDb } from "@/server/db";
import { clientIp, tooLarge } from "@/server/http";

export const dynamic = "force-dynamic";

async function handler(req: Request) {
  const oversize = tooLarge(req);
  if (oversize) return oversize;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: async () => ({ db: await getAppDb(), user: await getSessionUser(), ip: clientIp(req) }),
  });
}

export { handler as GET, handler as POST };
