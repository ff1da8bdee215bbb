import { describe, expect, it } from "vitest";
import { safeNextPath } from "./http";

describe("the path to return to after signing in", () => {
  it.each([
    ["/c/0b7a6f0e-1b1e-4c1e-9a3e-2f2d6a9b8c7d", "/c/0b7a6f0e-1b1e-4c1e-9a3e-2f2d6a9b8c7d"],
    [undefined, "/"],
    ["", "/"],
    ["https://evil.example/", "/"],
    ["//evil.example/", "/"],
    ["/\\evil.example/", "/"],
    ["javascript:alert(1)", "/"],
  ])("maps %j to %j: same-site paths only", (input, expected) => {
    expect(safeNextPath(input)).toBe(expected);
  });
});
