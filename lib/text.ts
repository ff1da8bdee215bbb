// The one rule for text people type (names, announcements, messages). No
// imports: the server's zod schemas and the browser's forms both use it.

export type TextRule = {
  /** Names the field in errors: "Group name contains control characters". */
  field: string;
  /** In code points, so an emoji counts once. */
  max: number;
  /** Tab and newlines are allowed only here (messages, announcements). */
  multiline?: boolean;
  /** An empty value is accepted (clearing an announcement). */
  allowEmpty?: boolean;
};

export type TextProblem = "not_text" | "control" | "bidi" | "empty" | "invisible" | "too_long";

export type TextCheck = { ok: true; value: string } | { ok: false; problem: TextProblem; message: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Postgres text cannot hold NUL; other C0/C1 controls are never typed by people
// and can hide or rewrite what is shown around them.
function hasControlCharacter(text: string, multiline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (multiline && (c === 0x09 || c === 0x0a || c === 0x0d)) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
// Overrides and isolates reorder what follows ("abc\u202Egnp.exe" shows as "abcexe.png").
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
// Text made only of these looks blank: zero-width and other default-ignorable
// code points, format characters, whitespace, and blank-looking fillers.
const INVISIBLE_ONLY = /^[\s\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]*$/u;

export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The value as it will be stored (trimmed), or why it is refused. */
export function checkText(raw: string, rule: TextRule): TextCheck {
  const { field } = rule;
  const refuse = (problem: TextProblem, message: string): TextCheck => ({ ok: false, problem, message });
  const value = raw.trim();
  if (LONE_SURROGATE.test(value)) return refuse("not_text", `${field} is not valid UTF-8 text`);
  if (hasControlCharacter(value, rule.multiline ?? false))
    return refuse("control", `${field} contains control characters`);
  if (BIDI_CONTROL.test(value)) return refuse("bidi", `${field} contains text-direction control characters`);
  if (value.length === 0) {
    return rule.allowEmpty ? { ok: true, value } : refuse("empty", `${field} cannot be empty`);
  }
  if (INVISIBLE_ONLY.test(value)) return refuse("invisible", `${field} must contain visible characters`);
  if (codePointLength(value) > rule.max) {
    return refuse("too_long", `${field} must be at most ${rule.max} characters`);
  }
  return { ok: true, value };
}
