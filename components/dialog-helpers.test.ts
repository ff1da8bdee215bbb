import { describe, expect, it } from "vitest";
import { hueOf, initialsOf } from "./avatar";
import { describeError } from "./error-message";
import { permissionsFor } from "./group-permissions";

describe("an avatar without a picture", () => {
  it("shows the first letters of the first and last names", () => {
    expect(initialsOf("Alice Liddell")).toBe("AL");
    expect(initialsOf("  carol   de la  Cruz ")).toBe("CC");
  });

  it("shows two letters of a single name, and a question mark for a blank one", () => {
    expect(initialsOf("bob")).toBe("BO");
    expect(initialsOf("   ")).toBe("?");
  });

  it("does not split an emoji or accented letter in half", () => {
    expect(initialsOf("😀 Smile")).toBe("😀S");
    expect(initialsOf("Élodie")).toBe("ÉL");
  });

  it("keeps a person's color the same everywhere and spreads people over the color wheel", () => {
    const id = "6f1c2a9e-8b1d-4d7e-9a55-1f0c3b2e4d61";
    expect(hueOf(id)).toBe(hueOf(id));
    const hues = new Set(Array.from({ length: 50 }, (_, i) => hueOf(`user-${i}`)));
    expect(hues.size).toBeGreaterThan(30);
    for (const hue of hues) expect(hue).toBeGreaterThanOrEqual(0);
    for (const hue of hues) expect(hue).toBeLessThan(360);
  });
});

describe("error messages shown in dialogs", () => {
  it("show the first input problem the server found", () => {
    const error = Object.assign(new Error('[{"message":"Group name cannot be empty"}]'), {
      data: { zodError: { formErrors: [], fieldErrors: { name: ["Group name cannot be empty"] } } },
    });
    expect(describeError(error)).toBe("Group name cannot be empty");
  });

  it("show a domain error as the server wrote it", () => {
    const error = Object.assign(new Error("Only the owner and admins can add members"), {
      data: { code: "FORBIDDEN", zodError: null },
    });
    expect(describeError(error)).toBe("Only the owner and admins can add members");
  });

  it("turn a raw list of issues into its first sentence", () => {
    expect(describeError(new Error('[{"code":"too_big","message":"At most 100 characters"}]'))).toBe(
      "At most 100 characters",
    );
  });

  it("explain a network failure in plain words", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/Can't reach the server/);
    expect(describeError(null)).toBe("Something went wrong. Please try again.");
  });
});

describe("what the group info panel offers", () => {
  it("lets the owner do everything except remove themselves as owner", () => {
    const owner = permissionsFor("owner");
    expect([owner.editInfo, owner.addMembers, owner.setRoles]).toEqual([true, true, true]);
    expect([owner.remove("admin"), owner.remove("member"), owner.remove("owner")]).toEqual([true, true, false]);
  });

  it("lets an admin edit and add, and remove plain members only, but never hand out admin", () => {
    const admin = permissionsFor("admin");
    expect([admin.editInfo, admin.addMembers, admin.setRoles]).toEqual([true, true, false]);
    expect([admin.remove("member"), admin.remove("admin"), admin.remove("owner")]).toEqual([true, false, false]);
  });

  it("shows a plain member no management actions at all", () => {
    const member = permissionsFor("member");
    expect([member.editInfo, member.addMembers, member.setRoles]).toEqual([false, false, false]);
    expect([member.remove("member"), member.remove("admin"), member.remove("owner")]).toEqual([false, false, false]);
  });
});
