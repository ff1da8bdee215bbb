import type { ReactNode } from "react";

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const MENTION_PATTERN = /(^|[^A-Za-z0-9_.@-])(@[A-Za-z0-9_.-]{1,32})/g;

/** Mentions in a run of plain text, highlighted; still text (React escapes it). */
function withMentions(text: string, keyBase: number): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(MENTION_PATTERN)) {
    const start = (match.index ?? 0) + match[1].length;
    const word = match[2].replace(/[.-]+$/, "");
    if (start > last) out.push(text.slice(last, start));
    out.push(
      <span key={`${keyBase}-${start}`} className="mention" data-testid="mention">
        {word}
      </span>,
    );
    last = start + word.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Message text as TEXT: React escapes it; only http(s) URLs become links, @mentions are highlighted. */
export function MessageText({ body }: { body: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    // Trailing punctuation usually ends the sentence, not the URL.
    const url = match[0].replace(/[.,;:!?)\]}]+$/, "");
    const start = match.index ?? 0;
    const safe = safeHref(url);
    if (!safe) continue;
    if (start > last) parts.push(...withMentions(body.slice(last, start), last));
    parts.push(
      <a key={`${start}`} href={safe} target="_blank" rel="noopener noreferrer nofollow ugc">
        {url}
      </a>,
    );
    last = start + url.length;
  }
  if (last < body.length) parts.push(...withMentions(body.slice(last), last));
  return <>{parts}</>;
}

function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}
