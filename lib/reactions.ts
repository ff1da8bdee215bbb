import { MAX_REACTION_CHARS } from "./limits";

const SHORT_NAME = /^:[a-z0-9_+-]{1,30}:$/;
// Emoji presentation, pictographs, flags (regional indicators) and keycaps.
const EMOJI_LIKE = /\p{Extended_Pictographic}|\p{Emoji_Presentation}|\p{Regional_Indicator}|\u20e3/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** One emoji grapheme ("👍", "👩‍👩‍👧", "🇫🇷", "1️⃣") or a short name like ":party_parrot:". */
export function isReactionEmoji(value: string): boolean {
  if (value.length === 0 || value.length > MAX_REACTION_CHARS) return false;
  if (SHORT_NAME.test(value)) return true;
  let graphemes = 0;
  for (const _ of segmenter.segment(value)) if (++graphemes > 1) return false;
  // A keycap starts with a digit; any other letter, digit or space is not an emoji.
  return EMOJI_LIKE.test(value) && !/[\s\p{L}\p{N}]/u.test(value.replace(/[0-9#*]\ufe0f?\u20e3/u, ""));
}
