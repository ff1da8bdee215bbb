// The smoke run: the same routers through createCaller, the same channel
// authorization function, a real test Soketi, on PGlite or TEST_DATABASE_URL.
import type { DriverName } from "@/db/client";
import { createTestDb } from "@/db/testing";
import { createCaller } from "@/server/api/root";
import { hashPassword } from "@/server/auth/password";
import { authorizeChannels } from "@/server/realtime/authorize";
import { startPushWorker } from "@/server/push/worker";
import { freePort, startTestSoketi } from "@/server/testing/realtime";
import webpush from "web-push";
import type { SeedUser } from "./seed";
import { BENCH_PASSWORD, CallError, procedurePaths, type Session, type Target } from "./target";

export async function startInProcessTarget(driver: DriverName): Promise<Target> {
  const handle = await createTestDb(driver);
  const realtime = await startTestSoketi();
  const paths = await procedurePaths();
  const db = handle.db;
  const pushSinkPort = await freePort();
  const pushConfig = {
    vapid: { ...webpush.generateVAPIDKeys(), subject: "mailto:bench@chorus.invalid" },
    policy: { allowHosts: new Set([`127.0.0.1:${pushSinkPort}`]) },
    timeoutMs: 5000,
    ratePerMinute: 1_000_000_000,
  };

  const sessionOf = async (user: SeedUser): Promise<Session> => {
    const caller = createCaller({
      db,
      user: { id: user.id, name: user.username },
      ip: "127.0.0.1",
      publisher: realtime.publisher,
    });
    return {
      user,
      async call<T>(_kind: "query" | "mutation", path: string, input?: unknown): Promise<T> {
        // biome-ignore lint/suspicious/noExplicitAny: procedures are looked up by path, as over HTTP
        let fn: any = caller;
        for (const part of path.split(".")) fn = fn[part];
        try {
          return (await fn(input)) as T;
        } catch (error) {
          const e = error as { code?: string; message?: string };
          throw new CallError(path, e.code ?? "ERROR", e.message ?? String(error));
        }
      },
      authorize: (socketId, channels) => authorizeChannels(db, realtime.publisher, user.id, socketId, channels),
    };
  };

  return {
    mode: "in-process",
    driver,
    handle,
    db,
    realtime: realtime.config,
    publisher: realtime.publisher,
    password: BENCH_PASSWORD,
    passwordHash: await hashPassword(BENCH_PASSWORD),
    has: (p) => paths.has(p),
    push: {
      sinkPort: pushSinkPort,
      startPlanner: () => startPushWorker(db, { config: pushConfig }, { pollMs: 50 }),
    },
    signIn: sessionOf,
    session: sessionOf,
    async close() {
      await realtime.soketi.stop();
      await handle.close();
    },
  };
}
