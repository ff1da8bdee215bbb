import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { createCaller } from "@/server/api/root";
import { verifyCredentials } from "@/server/auth/accounts";
import { DEMO_PASSWORD, seed } from "./seed";
import { recordingPublisher } from "../server/testing/publisher";

describe.each(testDrivers)("the demo seed on %s", (driver) => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb(driver);
  });
  afterAll(async () => {
    await handle.close();
  });

  it("makes a fresh install look alive, and running it again changes nothing", async () => {
    expect(await seed(handle.db)).toEqual({ created: true });
    const alice = await verifyCredentials(handle.db, "alice", DEMO_PASSWORD);
    expect(alice).not.toBeNull();
    const list = await createCaller({
      db: handle.db,
      user: { id: alice!.id },
      publisher: recordingPublisher(),
    }).conversation.list({ limit: 20 });
    expect(list.items.length).toBe(3);
    expect(await seed(handle.db)).toEqual({ created: false });
  });
});
