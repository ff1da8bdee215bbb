import { type Browser, type BrowserContext, expect, type Page, test as base } from "@playwright/test";

export const PASSWORD = "correct horse battery";

export type TestUser = { username: string; displayName: string; password: string };

let counter = 0;
/** Unique per test run and worker, so specs run in parallel on one database. */
export function uniqueUser(name: string): TestUser {
  counter += 1;
  const suffix = `${Date.now().toString(36)}${process.pid.toString(36)}${counter}`;
  return {
    username: `${name.toLowerCase()}_${suffix}`.slice(0, 32),
    displayName: name,
    password: PASSWORD,
  };
}

/** Signs up through the API (fast; the UI sign-up has its own smoke test). */
export async function registerViaApi(context: BrowserContext, user: TestUser): Promise<{ id: string }> {
  const response = await context.request.post("/api/trpc/auth.register", {
    data: { json: { username: user.username, displayName: user.displayName, password: user.password } },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
  const body = (await response.json()) as { result: { data: { json: { id: string } } } };
  return { id: body.result.data.json.id };
}

/** Signs in through next-auth's credentials endpoint; the session cookie lands in the context. */
export async function signInViaApi(context: BrowserContext, user: TestUser): Promise<void> {
  const csrf = (await (await context.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const response = await context.request.post("/api/auth/callback/credentials", {
    form: { csrfToken: csrf.csrfToken, username: user.username, password: user.password, json: "true" },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
}

/** Waits for the real "connected" signal of the realtime client, never a sleep. */
export async function waitForRealtime(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-realtime", "connected");
}

/**
 * Connected is not yet subscribed: a message published before a conversation's channel is
 * subscribed reaches the page by catch-up (no alert, no live merge). Wait for `count` live channels.
 */
export async function waitForLiveConversations(page: Page, count: number): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-live-conversations", String(count));
}

export type SignedIn = TestUser & { id: string; context: BrowserContext; page: Page };

/** A signed-up, signed-in user in their own browser context, on the app, connected. */
export async function signedInUser(
  browser: Browser,
  name: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<SignedIn> {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL, viewport: options.viewport });
  const user = uniqueUser(name);
  const { id } = await registerViaApi(context, user);
  await signInViaApi(context, user);
  const page = await context.newPage();
  await page.goto("/");
  await waitForRealtime(page);
  return { ...user, id, context, page };
}

export const test = base.extend<{
  personas: (name: string, options?: { viewport?: { width: number; height: number } }) => Promise<SignedIn>;
}>({
  personas: async ({ browser }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (name, options) => {
      const user = await signedInUser(browser, name, options);
      contexts.push(user.context);
      return user;
    });
    for (const context of contexts) await context.close();
  },
});

export { expect };
