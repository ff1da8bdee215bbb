import type { APIResponse, BrowserContext, Locator, Page } from "@playwright/test";
import { MAX_ANNOUNCEMENT_CHARS, MAX_BODY_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_GROUP_NAME_CHARS } from "../lib/limits";
import { expect } from "./fixtures";

// Strings people (or scripts posing as people) put in rendered text fields.
// Each refused one carries a tag of plain letters, so a page that showed any
// part of it, however mangled, is caught by looking for the tag.

export type TextField = { field: string; max: number; multiline: boolean };

export const displayName: TextField = { field: "Display name", max: MAX_DISPLAY_NAME_CHARS, multiline: false };
export const groupName: TextField = { field: "Group name", max: MAX_GROUP_NAME_CHARS, multiline: false };
export const announcement: TextField = { field: "Announcement", max: MAX_ANNOUNCEMENT_CHARS, multiline: true };
export const messageBody: TextField = { field: "Message", max: MAX_BODY_CHARS, multiline: true };

export type Accepted = { label: string; value: string; stored: string };
export type Refused = { label: string; value: string; tag: string | null; status: number; message: string };

export function acceptedStrings(f: TextField): Accepted[] {
  const cases: [string, string][] = [
    ["img onerror", "<img src=x onerror=alert(1)>"],
    ["script tag", "<script>alert(1)</script>"],
    ["attribute break-out", '"><svg onload=alert(1)>'],
    ["javascript link", '<a href="javascript:alert(1)">x</a>'],
    ["markdown link", "[click me](javascript:alert(1))"],
    ["markdown image", '![x](x" onerror="alert(1))'],
    ["markdown emphasis", "**bold** _it_ `code` # no heading"],
    ["entities", "&lt;b&gt;not bold&lt;/b&gt; &amp; &#x3C;"],
    ["url break-out", 'https://example.com/"><img src=x onerror=alert(1)>'],
    ["data url", "data:text/html,<script>alert(1)</script>"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the point of this string.
    ["template", "{{constructor.constructor('alert(1)')()}} ${alert(1)}"],
    ["rtl text", "مرحبا بالعالم שלום עולם"],
    ["emoji", "👋🏽 👨‍👩‍👧‍👦 🇺🇦 ❤️"],
    ["padded", "   padded with spaces   "],
    ["at the maximum", "🙂".repeat(f.max)],
  ];
  if (f.multiline) cases.push(["lines and a tab", "line one\nline two\n\ttabbed <b>three</b>"]);
  return cases.map(([label, value]) => ({ label, value, stored: value.trim() }));
}

export function refusedStrings(f: TextField, prefix: string): Refused[] {
  const { field, max } = f;
  const tag = (label: string) => `${prefix}${label.replace(/[^a-z]/g, "")}`;
  const bad = (label: string, value: (t: string) => string, message: string, status = 400): Refused => ({
    label,
    value: value(tag(label)),
    tag: tag(label),
    status,
    message,
  });
  const control = `${field} contains control characters`;
  const bidi = `${field} contains text-direction control characters`;
  const invisible = `${field} must contain visible characters`;
  const tooLong =
    field === "Message"
      ? bad("over the maximum", () => "🙃".repeat(max + 1), `Message is too long (at most ${max} characters)`, 413)
      : bad("over the maximum", () => "🙃".repeat(max + 1), `${field} must be at most ${max} characters`);
  const cases: Refused[] = [
    bad("nul", (t) => `${t}\u0000`, control),
    bad("csi", (t) => `${t}\u009b31m`, control),
    bad("escape", (t) => `${t}\u001b[2J`, control),
    bad("lone surrogate", (t) => `${t}\ud800`, `${field} is not valid UTF-8 text`),
    bad("lone low surrogate", (t) => `\udc00${t}`, `${field} is not valid UTF-8 text`),
    bad("bidi override", (t) => `${t}abc\u202Egnp.exe`, bidi),
    bad("bidi isolate", (t) => `${t}\u2066hidden\u2069`, bidi),
    { label: "zero width only", value: "\u200B\u200B", tag: null, status: 400, message: invisible },
    { label: "blank fillers", value: "\u3164\u2800\uFEFF", tag: null, status: 400, message: invisible },
    { ...tooLong, tag: "🙃🙃" },
  ];
  if (!f.multiline) cases.push(bad("newline", (t) => `${t}\nsecond line`, control));
  return cases;
}

export type ApiAnswer<T> = { status: number; data: T | null; message: string | null };

type Caller = Page | BrowserContext;
const isPage = (c: Caller): c is Page => "evaluate" in c && "goto" in c;

/**
 * Calls a tRPC procedure the way a client does. From a page: the browser's
 * fetch, with its cookies and its same-origin Origin. From a context: its
 * request client (a client that is not a browser sends no Origin).
 * JSON.stringify here keeps lone surrogates as \ud800 escapes, as a browser's would.
 */
export async function call<T>(
  caller: Caller,
  path: string,
  input: unknown,
  kind: "query" | "mutation" = "mutation",
): Promise<ApiAnswer<T>> {
  const json = JSON.stringify({ json: input });
  const url = kind === "mutation" ? `/api/trpc/${path}` : `/api/trpc/${path}?input=${encodeURIComponent(json)}`;
  let status: number;
  let text: string;
  if (isPage(caller)) {
    ({ status, text } = await caller.evaluate(
      async ({ url, json, post }) => {
        const res = await fetch(
          url,
          post ? { method: "POST", headers: { "content-type": "application/json" }, body: json } : {},
        );
        return { status: res.status, text: await res.text() };
      },
      { url, json, post: kind === "mutation" },
    ));
  } else {
    const res: APIResponse =
      kind === "mutation"
        ? await caller.request.post(url, { headers: { "content-type": "application/json" }, data: json })
        : await caller.request.get(url);
    status = res.status();
    text = await res.text();
  }
  const body = JSON.parse(text) as { result?: { data?: { json?: T } }; error?: { json?: { message?: string } } };
  return { status, data: body.result?.data?.json ?? null, message: body.error?.json?.message ?? null };
}

/** Calls and expects success; returns the answer's data. */
export async function accepted<T>(caller: Caller, path: string, input: unknown, what: string): Promise<T> {
  const answer = await call<T>(caller, path, input);
  expect(answer.status, `${what}: ${answer.message}`).toBe(200);
  return answer.data as T;
}

/** Calls and expects the refusal the text rule gives, naming the field. */
export async function refused(caller: Caller, path: string, input: unknown, bad: Refused, field: string) {
  const answer = await call(caller, path, input);
  expect(answer.status, `${field} "${bad.label}" should be refused, got ${answer.message}`).toBe(bad.status);
  expect(answer.message, `${field} "${bad.label}"`).toBe(bad.message);
  expect(answer.message).toContain(field);
}

export const clientMsgId = () => `hostile-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

/** What a browser did that it must never do while showing hostile text. */
export class Watch {
  readonly dialogs: string[] = [];
  readonly errors: string[] = [];
  readonly serverErrors: string[] = [];

  constructor(pages: Page[]) {
    for (const page of pages) this.add(page);
  }

  add(page: Page) {
    page.on("dialog", (dialog) => {
      this.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("pageerror", (error) => this.errors.push(error.message));
    page.on("response", (response) => {
      if (response.status() >= 500) this.serverErrors.push(`${response.status()} ${response.url()}`);
    });
  }

  expectQuiet() {
    expect(this.dialogs, "no alert, confirm or prompt opened").toEqual([]);
    expect(this.errors, "no uncaught page error").toEqual([]);
    expect(this.serverErrors, "no 5xx answer").toEqual([]);
  }
}

// Where user text is rendered: anything markup-like found here came from a string.
const REGIONS = [
  '[data-testid="conversation-list"]',
  '[data-testid="chat-window"]',
  '[data-testid="group-info"]',
  '[data-testid="me-name"]',
];

/** Counts of elements user text would have produced had it been parsed as HTML. */
export function injectedMarkup(page: Page): Promise<Record<string, number>> {
  return page.evaluate((regions) => {
    const inside = (selector: string) =>
      regions.reduce((n, region) => n + document.querySelectorAll(`${region} ${selector}`).length, 0);
    return {
      'img[src="x"] anywhere': document.querySelectorAll('img[src="x"]').length,
      "script in user content": inside("script"),
      // Next.js adds its own chunks on client-side navigation: same-origin files, no nonce needed.
      "script without a nonce anywhere": Array.from(document.querySelectorAll("script:not([nonce])")).filter(
        (s) => !(s as HTMLScriptElement).src.startsWith(`${location.origin}/_next/static/`),
      ).length,
      "svg with onload": document.querySelectorAll("svg[onload]").length,
      "any onerror/onload attribute": document.querySelectorAll("[onerror], [onload]").length,
      "javascript: link": document.querySelectorAll('a[href^="javascript:" i]').length,
      "iframe/object/embed": inside("iframe, object, embed"),
      "strong/b/em/code in user content": inside("strong, b, em, code, h1"),
    };
  }, REGIONS);
}

export async function expectNoInjectedMarkup(page: Page, where: string) {
  expect(await injectedMarkup(page), where).toEqual({
    'img[src="x"] anywhere': 0,
    "script in user content": 0,
    "script without a nonce anywhere": 0,
    "svg with onload": 0,
    "any onerror/onload attribute": 0,
    "javascript: link": 0,
    "iframe/object/embed": 0,
    "strong/b/em/code in user content": 0,
  });
}

/** No trace of a refused string anywhere in the document, text or attributes. */
export async function expectNoTrace(page: Page, refusals: Refused[]) {
  const html = await page.evaluate(() => document.documentElement.outerHTML);
  for (const r of refusals) {
    if (r.tag) expect(html.includes(r.tag), `"${r.label}" (${r.tag}) is on the page`).toBe(false);
  }
}

/** Exactly this text, no whitespace folding (a toHaveText string would fold it). */
export async function expectLiteral(locator: Locator, text: string, what: string) {
  await expect(locator, what).toHaveJSProperty("textContent", text);
}

/** Page object over the views that show user text, found by id, never by the (hostile) text. */
export class HostileView {
  constructor(readonly page: Page) {}

  conversation(id: string): Locator {
    return this.page.locator(`[data-testid="conversation-item"][data-conversation-id="${id}"]`);
  }

  conversationTitle(id: string): Locator {
    return this.conversation(id).getByTestId("conversation-title");
  }

  async open(id: string) {
    await this.conversation(id).click();
    await expect(this.page).toHaveURL(new RegExp(`/c/${id}$`));
  }

  get title(): Locator {
    return this.page.getByTestId("chat-title");
  }

  message(seq: number): Locator {
    return this.page.getByTestId("message-list").locator(`[data-testid="message"][data-seq="${seq}"]`);
  }

  /**
   * The message list is virtualized: only rows near the viewport exist. Scrolls
   * toward the row (by the seqs on screen) until it is rendered, then returns it.
   */
  async reveal(seq: number): Promise<Locator> {
    const list = this.page.getByTestId("message-list");
    const target = this.message(seq);
    await expect
      .poll(
        async () => {
          if ((await target.count()) > 0) {
            // The row may be re-rendered while the list loads or re-anchors: scroll it in from the
            // page and poll again, rather than wait on one element that may never settle.
            const shown = await target
              .evaluate(
                (el) => {
                  el.scrollIntoView({ block: "center" });
                  return true;
                },
                undefined,
                { timeout: 2_000 },
              )
              .catch(() => false);
            return shown && (await target.isVisible());
          }
          await list.evaluate((el, wanted) => {
            const seqs = Array.from(el.querySelectorAll("[data-seq]"), (e) => Number(e.getAttribute("data-seq")));
            // Between the rows on screen but not rendered yet (still arriving or being filled): wait.
            const down = seqs.length === 0 || Math.max(...seqs) < wanted;
            const up = seqs.length > 0 && Math.min(...seqs) > wanted;
            if (down || up) el.scrollTop += (down ? 1 : -1) * el.clientHeight * 0.7;
          }, seq);
          return false;
        },
        { message: `message ${seq} is rendered`, intervals: [100], timeout: 60_000 },
      )
      .toBe(true);
    return target;
  }

  get textMessages(): Locator {
    return this.page.getByTestId("message-list").getByTestId("message");
  }

  get panel(): Locator {
    return this.page.getByTestId("group-info");
  }

  async openPanel() {
    await this.page.getByTestId("group-info-button").click();
    await expect(this.panel.getByTestId("group-info-summary")).toBeVisible();
  }

  async closePanel() {
    await this.page.getByTestId("group-info-close").click();
    await expect(this.panel).toHaveCount(0);
  }

  memberName(userId: string): Locator {
    return this.panel
      .locator(`[data-testid="group-member"][data-user-id="${userId}"]`)
      .getByTestId("group-member-name");
  }
}
