import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { footprint } from "../testing/footprint";
import { callerFor, createPersona, type Persona } from "../testing/personas";

// Inputs the fuzz suite (fuzz.test.ts) found answered with a 500; each stays here as a sentence.
describe.each(testDrivers)("inputs found by fuzzing (%s)", (driver) => {
  let handle: TestDb;
  let carol: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    carol = await createPersona(handle.db, "carol");
  });
  afterAll(async () => {
    await handle?.close();
  });

  const codeOf = (call: Promise<unknown>) =>
    call.then(
      () => "OK",
      (error: unknown) => (error instanceof TRPCError ? error.code : `not a tRPC error: ${String(error)}`),
    );

  it("a user search for text with a NUL in it is refused as a bad request, not a 500", async () => {
    const before = await footprint(handle.db);
    expect(await codeOf(callerFor(handle.db, carol).user.search({ query: "\u0000" }))).toBe("BAD_REQUEST");
    expect(await codeOf(callerFor(handle.db, carol).user.search({ query: "car\u0000ol" }))).toBe("BAD_REQUEST");
    expect(await footprint(handle.db)).toEqual(before);
  });
});
