import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { footprint } from "../testing/footprint";
import { seedGroup } from "../testing/conversations";
import { callerFor, createPersona, createPersonas, type Persona } from "../testing/personas";

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const someId = "7bc46185-6caa-4736-a75d-1925b794fe85";

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

  it("an avatar URL with a NUL in it is refused as a bad request, not a 500, for a profile and a group", async () => {
    const [alice] = await createPersonas(handle.db, "alice");
    const conversationId = await seedGroup(handle.db, alice, [carol]);
    const avatarUrl = "https://example.com/a.png\u0000";
    const before = await footprint(handle.db);
    expect(await codeOf(callerFor(handle.db, carol).user.updateProfile({ avatarUrl }))).toBe("BAD_REQUEST");
    expect(await codeOf(callerFor(handle.db, carol).group.create({ name: "Avatars", avatarUrl }))).toBe("BAD_REQUEST");
    expect(await codeOf(callerFor(handle.db, alice).group.update({ conversationId, avatarUrl }))).toBe("BAD_REQUEST");
    expect(await footprint(handle.db)).toEqual(before);
  });

  it("a member-list cursor carrying a NUL, a lone surrogate, a non-UUID id or an unknown rank is a bad request, not a 500", async () => {
    const [alice, bob] = await createPersonas(handle.db, "alice", "bob");
    const conversationId = await seedGroup(handle.db, alice, [bob, carol]);
    const members = (c: string) => callerFor(handle.db, carol).group.members({ conversationId, cursor: c, limit: 1 });
    const first = await members(cursor([0, "", someId]));
    expect(first.items).toHaveLength(1);
    for (const bad of [
      [0, "\u0000", someId],
      [0, "a\uD800", someId],
      [0, "alice", "-".repeat(36)],
      [2 ** 53, "alice", someId],
      [3, "alice", someId],
      [-1, "alice", someId],
    ]) {
      expect(await codeOf(members(cursor(bad))), JSON.stringify(bad)).toBe("BAD_REQUEST");
    }
  });

  it("a conversation-list cursor with an empty or unreadable time or a non-UUID id is a bad request, not a 500", async () => {
    const list = (c: string) => callerFor(handle.db, carol).conversation.list({ cursor: c });
    for (const bad of [
      { at: "", id: someId },
      { at: "not a date", id: someId },
      { at: "\u0000", id: someId },
      { at: "2026-12-01 12:00:00+00", id: "-".repeat(36) },
    ]) {
      expect(await codeOf(list(cursor(bad))), JSON.stringify(bad)).toBe("BAD_REQUEST");
    }
  });
});
