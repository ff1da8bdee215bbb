import { describe, expect, it } from "vitest";
import { checkText } from "./text";

const message = { field: "Message", max: 10, multiline: true };
const name = { field: "Group name", max: 10 };

describe("the text rule", () => {
  it("keeps tabs and newlines inside multi-line text, and trims around it", () => {
    expect(checkText("  a\tb\r\nc  ", message)).toEqual({ ok: true, value: "a\tb\r\nc" });
  });

  it("refuses them in a one-line name, naming the field", () => {
    expect(checkText("a\tb", name)).toMatchObject({ ok: false, message: "Group name contains control characters" });
  });

  it("counts an emoji once and refuses one code point too many", () => {
    expect(checkText("🎉".repeat(10), name)).toMatchObject({ ok: true });
    expect(checkText("🎉".repeat(11), name)).toMatchObject({ ok: false, problem: "too_long" });
  });

  it("accepts an emoji with a zero-width joiner and right-to-left script, which are visible", () => {
    expect(checkText("👩‍💻 שלום", name)).toMatchObject({ ok: true });
  });

  it("lets an optional field be empty but not merely invisible", () => {
    const announcement = { field: "Announcement", max: 10, multiline: true, allowEmpty: true };
    expect(checkText("   ", announcement)).toEqual({ ok: true, value: "" });
    expect(checkText("\u200B", announcement)).toMatchObject({ ok: false, problem: "invisible" });
  });
});
