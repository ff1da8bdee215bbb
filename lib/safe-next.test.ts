import { describe, expect, it } from "vitest";
import { safeNextPath } from "./safe-next";

describe("the path to return to after signing in", () => {
  it.each([
    ["/c/0b7a6f0e-1b1e-4c1e-9a3e-2f2d6a9b8c7d", "/c/0b7a6f0e-1b1e-4c1e-9a3e-2f2d6a9b8c7d"],
    ["/c/abc?tab=info#m-12", "/c/abc?tab=info#m-12"],
    ["/a/../c/abc", "/c/abc"],
    ["/%5Cevil.example", "/%5Cevil.example"],
  ])("keeps a path on this site: %j becomes %j", (input, expected) => {
    expect(safeNextPath(input)).toBe(expected);
  });

  it.each([
    ["nothing", undefined],
    ["null", null],
    ["an empty string", ""],
    ["another origin", "https://evil.example/"],
    ["a protocol-relative URL", "//evil.example/"],
    ["a backslash after the slash", "/\\evil.example/"],
    ["a backslash later on", "/c/\\\\evil.example"],
    ["a tab between slashes", "/\t/evil.example"],
    ["a newline between slashes", "/\n/evil.example"],
    ["a carriage return", "/\r/evil.example"],
    ["a NUL", "/\u0000/evil.example"],
    ["a leading space", " /c/abc"],
    ["a space inside", "/ /evil.example"],
    ["a no-break space", "/\u00A0/evil.example"],
    ["a zero-width space", "/\u200B/evil.example"],
    ["dot segments that collapse to //", "/.//evil.example"],
    ["parent segments that collapse to //", "/..//evil.example"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a data: URL", "data:text/html,<script>alert(1)</script>"],
    ["a relative path", "c/abc"],
    ["a scheme with a slash path", "http:/evil.example"],
    ["something absurdly long", `/${"a".repeat(5000)}`],
  ])("sends %s home to /", (_what, input) => {
    expect(safeNextPath(input)).toBe("/");
  });
});
