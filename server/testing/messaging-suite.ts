import type Pusher from "pusher-js";
import { afterAll, beforeAll } from "vitest";
import type { DriverName } from "@/db/client";
import { createTestDb, type TestDb } from "@/db/testing";
import { sendMessage } from "../messaging/send";
import { testSendDeps } from "./conversations";
import { callerFor, createPersonas, type Persona } from "./personas";
import { useTestPublisher } from "./read-state";
import { connectAs, startTestSoketi, subscribed, type TestSoketi } from "./realtime";

/**
 * A messaging suite on one driver with a real Soketi: registers its
 * beforeAll/afterAll, and hands out the personas named (filled in beforeAll)
 * and the calls most such suites make.
 */
export function messagingSuite(driver: DriverName, ...names: string[]) {
  const suite = {
    handle: undefined as unknown as TestDb,
    realtime: undefined as unknown as TestSoketi,
    personas: [] as Persona[],
    clients: [] as Pusher[],
    api: (who: Persona) => callerFor(suite.handle.db, who, suite.realtime.publisher),
    send: (who: Persona, conversationId: string, body: string, replyToSeq?: number) =>
      sendMessage(
        suite.handle.db,
        who.id,
        { conversationId, clientMsgId: crypto.randomUUID(), body, replyToSeq },
        testSendDeps(suite.realtime.publisher),
      ),
    /** A pusher-js client of `who`, subscribed to `channel`; disconnected after the suite. */
    connect: async (who: Persona, channel: string) => {
      const client = connectAs(suite.handle.db, suite.realtime, who.id);
      suite.clients.push(client);
      await subscribed(client, channel);
      return client;
    },
  };
  beforeAll(async () => {
    suite.handle = await createTestDb(driver);
    suite.realtime = await startTestSoketi();
    useTestPublisher(suite.realtime.publisher);
    suite.personas = await createPersonas(suite.handle.db, ...names);
  });
  afterAll(async () => {
    for (const client of suite.clients) client.disconnect();
    await suite.realtime?.soketi.stop();
    await suite.handle?.close();
  });
  return suite;
}
