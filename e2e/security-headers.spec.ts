import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { registerViaApi, signInViaApi, uniqueUser, waitForRealtime } from "./fixtures";

type Violation = { directive: string; blocked: string };

/** Records every CSP violation the page reports, from before its first script. */
async function watchViolations(context: BrowserContext) {
  await context.addInitScript(() => {
    const seen: { directive: string; blocked: string }[] = [];
    (window as unknown as { __cspViolations: typeof seen }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (e) =>
      seen.push({ directive: e.violatedDirective, blocked: e.blockedURI }),
    );
  });
}

const violations = (page: Page) =>
  page.evaluate(() => (window as unknown as { __cspViolations: Violation[] }).__cspViolations);

function scriptSources(csp: string): string[] {
  const directive = csp.split(";").find((d) => d.trim().startsWith("script-src "));
  return directive ? directive.trim().split(/\s+/).slice(1) : [];
}

test("the sign-in page is sent with a nonce CSP, no inline scripts allowed, and the other security headers", async ({
  page,
}) => {
  const response = await page.goto("/sign-in");
  const headers = response?.headers() ?? {};
  const csp = headers["content-security-policy"] ?? "";
  const scripts = scriptSources(csp);
  expect(scripts.some((s) => /^'nonce-[A-Za-z0-9+/=]+'$/.test(s))).toBe(true);
  expect(scripts).not.toContain("'unsafe-inline'");
  expect(scripts).not.toContain("'unsafe-eval'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'self'");
  expect(headers).toMatchObject({
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
  });
  expect(headers["permissions-policy"]).toContain("camera=()");
  // Plain http here: no HSTS.
  expect(headers["strict-transport-security"]).toBeUndefined();
  // Each page view draws a new nonce.
  const again = (await page.request.get("/sign-in")).headers()["content-security-policy"];
  expect(again).not.toBe(csp);
});

test("a script injected into the page does not run, and the browser reports it blocked", async ({ page, context }) => {
  await watchViolations(context);
  await page.goto("/sign-in");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__pwned = true";
    document.body.appendChild(script);
  });
  await expect.poll(() => violations(page)).toContainEqual(expect.objectContaining({ blocked: "inline" }));
  expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();
});

test("signing in through the form and using the app, realtime connected, reports no CSP violation", async ({
  browser,
}) => {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  await watchViolations(context);
  const user = uniqueUser("Csp");
  await registerViaApi(context, user);
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("app-shell")).toBeVisible();
  await waitForRealtime(page);
  expect(await violations(page)).toEqual([]);
  await context.close();
});

test("API answers carry the security headers too", async ({ browser }) => {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const user = uniqueUser("Api");
  await registerViaApi(context, user);
  await signInViaApi(context, user);
  // next-auth's answers, the tRPC API and the health check, whichever layer serves them.
  for (const path of ["/api/auth/session", "/api/trpc/user.me", "/api/health"]) {
    const headers = (await context.request.get(path)).headers();
    expect(headers, path).toMatchObject({ "x-content-type-options": "nosniff", "x-frame-options": "DENY" });
    expect(headers["content-security-policy"], path).toContain("default-src 'none'");
  }
  await context.close();
});
