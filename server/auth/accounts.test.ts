import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { callerFor, createPersona } from "../testing/personas";
import { verifyCredentials } from "./accounts";

describe.each(testDrivers)("accounts on %s", (driver) => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb(driver);
  });
  afterAll(async () => {
    await handle.close();
  });
  const guest = () => callerFor(handle.db, null);

  it("signs up a user with a hashed password and signs them in", async () => {
    const created = await guest().auth.register({ username: "dora", displayName: "Dora", password: "s3cret-pass" });
    expect(created).toMatchObject({ username: "dora", displayName: "Dora" });
    const [row] = await handle.db.select().from(users).where(eq(users.id, created.id));
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordHash).not.toContain("s3cret-pass");
    expect(await verifyCredentials(handle.db, "DORA", "s3cret-pass")).toMatchObject({ id: created.id });
  });

  it("refuses a wrong password and an unknown user alike", async () => {
    await guest().auth.register({ username: "eve_1", displayName: "Eve", password: "right-password" });
    expect(await verifyCredentials(handle.db, "eve_1", "wrong-password")).toBeNull();
    expect(await verifyCredentials(handle.db, "nobody_here", "right-password")).toBeNull();
  });

  it("refuses a username taken in another case, writing nothing", async () => {
    await guest().auth.register({ username: "Frank", displayName: "Frank", password: "password-1" });
    const before = await handle.db.$count(users);
    await expect(
      guest().auth.register({ username: "frank", displayName: "Other Frank", password: "password-2" }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: "That username is taken" });
    expect(await handle.db.$count(users)).toBe(before);
  });

  it.each([
    [{ username: "ab", displayName: "A", password: "password1" }, "at least 3"],
    [{ username: "a".repeat(33), displayName: "A", password: "password1" }, "at most 32"],
    [{ username: "bad name!", displayName: "A", password: "password1" }, "letters, digits"],
    [{ username: "<script>", displayName: "A", password: "password1" }, "letters, digits"],
    [{ username: "goodname", displayName: "", password: "password1" }, "Display name cannot be empty"],
    [{ username: "goodname", displayName: "A", password: "short" }, "at least 8"],
    [{ username: 42, displayName: "A", password: "password1" }, "string"],
  ])("refuses bad sign-up input %j with BAD_REQUEST", async (input, message) => {
    const before = await handle.db.$count(users);
    // biome-ignore lint/suspicious/noExplicitAny: wrong types on purpose
    await expect(guest().auth.register(input as any)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(guest().auth.register(input as never)).rejects.toThrow(new RegExp(message, "i"));
    expect(await handle.db.$count(users)).toBe(before);
  });

  it("tells a signed-in user who they are, and a guest to sign in", async () => {
    const alice = await createPersona(handle.db, "alice");
    expect(await callerFor(handle.db, alice).user.me()).toMatchObject({ id: alice.id, displayName: "Alice" });
    await expect(guest().user.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("finds other users by username prefix or display name, never the caller", async () => {
    const alice = await createPersona(handle.db, "alice");
    const bob = await createPersona(handle.db, "bob");
    const found = await callerFor(handle.db, alice).user.search({ query: bob.username.slice(0, 5) });
    expect(found.map((u) => u.id)).toContain(bob.id);
    const self = await callerFor(handle.db, alice).user.search({ query: alice.username });
    expect(self.map((u) => u.id)).not.toContain(alice.id);
    // LIKE wildcards are literal.
    expect(await callerFor(handle.db, alice).user.search({ query: "%" })).toEqual([]);
  });

  it("updates a profile and refuses bad values", async () => {
    const carol = await createPersona(handle.db, "carol");
    const caller = callerFor(handle.db, carol);
    expect(await caller.user.updateProfile({ displayName: "Carol C." })).toMatchObject({ displayName: "Carol C." });
    await expect(caller.user.updateProfile({ avatarUrl: "javascript:alert(1)" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(caller.user.updateProfile({})).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await caller.user.me()).toMatchObject({ displayName: "Carol C.", avatarUrl: null });
  });
});
