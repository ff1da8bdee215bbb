/** What a page says about itself, from its <head>. */
export type PagePreview = {
  url: string;
  title: string | null;
  description: string | null;
  siteName: string | null;
  imageUrl: string | null;
};

const LIMITS = { title: 200, description: 300, siteName: 100 };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1].toLowerCase() === "x" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Plain text for display: entities decoded, controls and runs of space collapsed, cut to length. */
function clean(value: string | undefined, max: number): string | null {
  if (!value) return null;
  const text = decodeEntities(value)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are removed, never shown
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (!text) return null;
  const points = [...text];
  return points.length > max ? `${points.slice(0, max - 1).join("")}…` : text;
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
    out[m[1].toLowerCase()] = m[3] ?? m[4] ?? m[5] ?? "";
  }
  return out;
}

/** Open Graph and Twitter card tags, falling back to <title> and the description meta tag. */
export function parsePreview(html: string, pageUrl: string): PagePreview {
  const meta = new Map<string, string>();
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const attrs = attributes(m[0]);
    const key = (attrs.property ?? attrs.name ?? "").toLowerCase();
    if (key && attrs.content !== undefined && !meta.has(key)) meta.set(key, attrs.content);
  }
  const titleTag = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  let imageUrl: string | null = null;
  const image = meta.get("og:image") ?? meta.get("og:image:url") ?? meta.get("twitter:image");
  if (image) {
    try {
      const resolved = new URL(decodeEntities(image.trim()), pageUrl);
      if (resolved.protocol === "https:" || resolved.protocol === "http:") imageUrl = resolved.toString();
    } catch {
      imageUrl = null;
    }
  }
  return {
    url: pageUrl,
    title: clean(meta.get("og:title") ?? meta.get("twitter:title") ?? titleTag, LIMITS.title),
    description: clean(
      meta.get("og:description") ?? meta.get("twitter:description") ?? meta.get("description"),
      LIMITS.description,
    ),
    siteName: clean(meta.get("og:site_name"), LIMITS.siteName) ?? new URL(pageUrl).hostname,
    imageUrl: imageUrl && imageUrl.length <= 2048 ? imageUrl : null,
  };
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/i;

/** The first http(s) link of a message body, without trailing punctuation; null when none. */
export function firstLink(body: string): string | null {
  const match = URL_IN_TEXT.exec(body);
  if (!match) return null;
  let raw = match[0].replace(/[.,;:!?'"]+$/, "");
  // A closing bracket belongs to the link only if the link opened one.
  while (/[)\]]$/.test(raw) && (raw.match(/[([]/g)?.length ?? 0) < (raw.match(/[)\]]/g)?.length ?? 0)) {
    raw = raw.slice(0, -1);
  }
  try {
    const url = new URL(raw);
    if (url.username || url.password) return null;
    return url.toString().length <= 2048 ? url.toString() : null;
  } catch {
    return null;
  }
}
