import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDb, type TestDb } from "@/db/testing";
import { appRouter } from "../api/root";

const deeplyNested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

describe("answers to malformed request bodies name no internals", () => {
  let handle: TestDb;
  beforeAll(async () => {
    handle = await createTestDb("pglite");
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** A POST straight through tRPC's fetch adapter, as the HTTP layer serves it. */
  async function post(path: string, body: string) {
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request(`http://chorus.test/api/trpc/${path}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      }),
      router: appRouter,
      createContext: () => ({ db: handle.db, user: null, ip: "192.0.2.200" }) as never,
    });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) };
  }
  const errorOf = (json: unknown) => (Array.isArray(json) ? json[0] : json).error.json;

  it.each([
    ["a null body", "auth.register", "null"],
    ["a null body in a batch", "auth.register,auth.register?batch=1", "null"],
    ["a body that is not JSON", "auth.register", "{bad"],
    [
      "a superjson meta nested 20,000 deep",
      "auth.register",
      `{"json":{"username":"x"},"meta":{"values":${deeplyNested(20_000)}}}`,
    ],
  ])(
    "%s is answered 400 BAD_REQUEST 'The request input is malformed', and signs nobody up",
    async (_what, path, body) => {
      const before = await handle.db.$count(users);
      const answer = await post(path, body);
      expect(answer.status).toBe(400);
      const error = errorOf(answer.json);
      expect(error).toMatchObject({ message: "The request input is malformed", data: { code: "BAD_REQUEST" } });
      expect(error.data.stack).toBeUndefined();
      expect(answer.text).not.toMatch(/destructure|call stack|JSON at position|payload|node_modules/);
      expect(await handle.db.$count(users)).toBe(before);
    },
  );

  it("invalid input keeps its first zod message as the message, and the field errors beside it", async () => {
    const answer = await post(
      "auth.register",
      JSON.stringify({ json: { username: "ab", displayName: "Zoë\u0000", password: "password1" } }),
    );
    expect(answer.status).toBe(400);
    const error = errorOf(answer.json);
    expect(error.message).toBe("Username must be at least 3 characters");
    expect(error.data.zodError.fieldErrors).toEqual({
      username: ["Username must be at least 3 characters"],
      displayName: ["Display name contains control characters"],
    });
  });
});
