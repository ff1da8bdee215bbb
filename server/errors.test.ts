import { describe, expect, test } from "vitest";
import { isDatabaseUnavailable } from "./errors";

describe("isDatabaseUnavailable", () => {
  test("a refused connection, a closed one and a server shutting down are worth retrying", () => {
    expect(isDatabaseUnavailable(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("closed"), { code: "CONNECTION_CLOSED" }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("terminating"), { code: "57P01" }))).toBe(true);
  });

  test("it is found through the wrappers drizzle and tRPC put around it", () => {
    const cause = Object.assign(new Error("starting up"), { code: "57P03" });
    const drizzle = new Error("Failed query: insert ...", { cause });
    expect(isDatabaseUnavailable(new Error("procedure failed", { cause: drizzle }))).toBe(true);
  });

  test("an aggregate of connection attempts counts when one of them was refused", () => {
    const refused = Object.assign(new Error("connect"), { code: "ECONNREFUSED" });
    expect(isDatabaseUnavailable(new AggregateError([refused], "all attempts failed"))).toBe(true);
  });

  test("a query's own failure is not an outage: a constraint, a syntax error, a plain bug", () => {
    expect(isDatabaseUnavailable(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error("syntax"), { code: "42601" }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});
