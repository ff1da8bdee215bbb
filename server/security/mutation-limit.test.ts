import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing";

// Read when server/env.js is first imported, so set before the app is loaded.
vi.stubEnv("MUTATION_RATE_LIMIT", "5");
const { callerFor, createPersona } = await import("../testing/personas");

describe("the per-user limit on mutations (MUTATION_RATE_LIMIT)", () => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb("pglite");
  });
  afterAll(async () => {
    await handle?.close();
    vi.unstubAllEnvs();
  });

  it("alice's sixth change within a minute is refused with TOO_MANY_REQUESTS; her reads and bob's changes go on", async () => {
    const alice = await createPersona(handle.db, "alice");
    const bob = await createPersona(handle.db, "bob");
    for (let i = 1; i <= 5; i++) await callerFor(handle.db, alice).user.updateProfile({ displayName: `Alice ${i}` });
    await expect(callerFor(handle.db, alice).user.updateProfile({ displayName: "Alice 6" })).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
      message: expect.stringMatching(/Too many changes at once; try again in \d+ s/),
    });
    expect(await callerFor(handle.db, alice).user.me()).toMatchObject({ displayName: "Alice 5" });
    await expect(callerFor(handle.db, bob).user.updateProfile({ displayName: "Bobby" })).resolves.toMatchObject({
      displayName: "Bobby",
    });
  });
});
