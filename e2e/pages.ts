import type { BrowserContext, Locator, Page } from "@playwright/test";
import { expect, registerViaApi, signInViaApi, type TestUser, uniqueUser } from "./fixtures";

/** Page object of the chat app, over data-testid attributes. */
export class ChatApp {
  constructor(readonly page: Page) {}

  conversation(title: string): Locator {
    return this.page.locator(`[data-testid="conversation-item"][data-title="${title}"]`);
  }

  unreadBadge(title: string): Locator {
    return this.conversation(title).getByTestId("unread-badge");
  }

  async open(title: string) {
    await this.conversation(title).click();
    await expect(this.page.getByTestId("chat-title")).toHaveText(title);
  }

  /** New chat → search → pick: opens (or reopens) the DM. */
  async startDm(peer: TestUser) {
    await this.page.getByTestId("new-chat-button").click();
    await this.page.getByTestId("new-chat-search").fill(peer.username);
    await this.page.getByTestId("new-chat-result").first().click();
    await expect(this.page.getByTestId("chat-title")).toHaveText(peer.displayName);
  }

  async createGroup(name: string, members: TestUser[]) {
    await this.page.getByTestId("new-chat-button").click();
    await this.page.getByTestId("new-chat-mode-group").click();
    await this.page.getByTestId("new-group-name").fill(name);
    for (const m of members) {
      await this.page.getByTestId("new-group-search").fill(m.username);
      await this.page.getByTestId("new-group-result").first().click();
      await expect(this.page.getByTestId("new-group-chip").filter({ hasText: m.displayName })).toBeVisible();
    }
    await this.page.getByTestId("new-group-create").click();
    await expect(this.page.getByTestId("chat-title")).toHaveText(name);
  }

  get composer(): Locator {
    return this.page.getByTestId("composer-input");
  }

  async send(text: string) {
    await this.composer.fill(text);
    await this.composer.press("Enter");
  }

  get messages(): Locator {
    return this.page.getByTestId("message-list").getByTestId("message");
  }

  message(text: string): Locator {
    return this.messages.filter({ has: this.page.getByTestId("message-body").getByText(text, { exact: true }) });
  }

  /** Bodies of the text messages on screen, top to bottom. */
  async bodies(): Promise<string[]> {
    return this.page.getByTestId("message-list").getByTestId("message-body").allInnerTexts();
  }

  async seqs(): Promise<number[]> {
    const values = await this.messages.evaluateAll((els) => els.map((e) => e.getAttribute("data-seq")));
    return values.filter((v): v is string => v !== null).map(Number);
  }

  async screenshot(name: string) {
    await this.page.screenshot({ path: `e2e/screenshots/${name}.png` });
  }
}

/** Calls a tRPC procedure as the context's signed-in user (setup shortcuts, not what is under test). */
export async function trpc<T>(
  context: BrowserContext,
  path: string,
  input: unknown,
  kind: "query" | "mutation",
): Promise<T> {
  const response =
    kind === "mutation"
      ? await context.request.post(`/api/trpc/${path}`, { data: { json: input } })
      : await context.request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(response.ok(), await response.text()).toBeTruthy();
  const body = (await response.json()) as { result: { data: { json: T } } };
  return body.result.data.json;
}

export async function openDmViaApi(from: BrowserContext, peerId: string): Promise<string> {
  const opened = await trpc<{ conversationId: string }>(from, "conversation.openDm", { userId: peerId }, "mutation");
  return opened.conversationId;
}

export async function createGroupViaApi(from: BrowserContext, name: string, memberIds: string[]): Promise<string> {
  const group = await trpc<{ conversationId: string }>(from, "group.create", { name, memberIds }, "mutation");
  return group.conversationId;
}

export async function sendViaApi(from: BrowserContext, conversationId: string, body: string): Promise<number> {
  const clientMsgId = `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const sent = await trpc<{ seq: number }>(from, "message.send", { conversationId, clientMsgId, body }, "mutation");
  return sent.seq;
}

/** A user registered and signed in in `context`, with no page opened yet. */
export async function signedInWithoutOpening(context: BrowserContext, name: string) {
  const user = uniqueUser(name);
  const { id } = await registerViaApi(context, user);
  await signInViaApi(context, user);
  return { ...user, id, context };
}

/** Notifications the origin's service worker registration is showing now. */
export async function shownNotifications(page: Page) {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const list = await registration.getNotifications();
    return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: (n.data as { url?: string })?.url }));
  });
}
