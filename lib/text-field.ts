import { z } from "zod";
import { checkText, type TextRule } from "./text";

/** A zod string that follows the text rule: trimmed, refusals name the field. */
export function textField(rule: TextRule) {
  return z.string(`${rule.field} must be a string`).transform((raw, ctx) => {
    const checked = checkText(raw, rule);
    if (checked.ok) return checked.value;
    ctx.issues.push({ code: "custom", message: checked.message, input: raw });
    return z.NEVER;
  });
}
