import type { BrowserContext } from "@playwright/test";
import { expect, registerViaApi, signInViaApi, test, type TestUser, uniqueUser, waitForRealtime } from "./fixtures";

// Named in ADMIN_USERNAMES by playwright.config.ts: a site admin from the moment they sign up.
const ROOT: TestUser = { username: "e2e_root", displayName: "Root", password: "correct horse battery" };

/** The configured admin, signed in; registered by the first test that needs them. */
async function rootIn(context: BrowserContext) {
  const taken = await context.request.post("/api/trpc/auth.register", {
    data: { json: { username: ROOT.username, displayName: ROOT.displayName, password: ROOT.password } },
  });
  expect([200, 409]).toContain(taken.status());
  await signInViaApi(context, ROOT);
}

test("a person who is not an admin is not shown the admin area and is refused its API", async ({ personas }) => {
  const carol = await personas("Carol");
  const page = await carol.page.goto("/admin");
  expect(page?.status()).toBe(404);
  const answer = await carol.page.request.get("/api/trpc/admin.health");
  expect(answer.status()).toBe(403);
});

test("the admin invites dora, who signs up from the link; then deactivates carol, whose open app is sent to sign in and who cannot sign in again", async ({
  browser,
  personas,
}) => {
  const baseURL = test.info().project.use.baseURL;
  const admin = await browser.newContext({ baseURL });
  await rootIn(admin);
  const page = await admin.newPage();
  await page.goto("/admin");
  await expect(page.getByTestId("admin-page")).toBeVisible();
  await expect(page.getByTestId("admin-health")).toContainText("Chorus 0.1.0");

  await page.getByLabel("Sign-ups allowed").fill("1");
  await page.getByTestId("create-invite").click();
  const url = (await page.getByTestId("invite-url").textContent()) ?? "";
  expect(url).toMatch(/\/sign-up\?invite=[A-Za-z0-9_-]{22}$/);

  const doraContext = await browser.newContext({ baseURL });
  const dora = await doraContext.newPage();
  await dora.goto(url);
  await expect(dora.getByTestId("invite-code")).toHaveValue(new URL(url).searchParams.get("invite") ?? "");
  const doraUser = uniqueUser("Dora");
  await dora.getByLabel("Username").fill(doraUser.username);
  await dora.getByLabel("Display name").fill("Dora");
  await dora.getByLabel("Password").fill(doraUser.password);
  await dora.getByRole("button", { name: "Sign up" }).click();
  await waitForRealtime(dora);
  await expect(dora.getByTestId("me-name")).toHaveText("Dora");

  // The invite was good for one sign-up: a second person is refused with the reason.
  const late = await browser.newContext({ baseURL });
  const latePage = await late.newPage();
  await latePage.goto(url);
  const lateUser = uniqueUser("Late");
  await latePage.getByLabel("Username").fill(lateUser.username);
  await latePage.getByLabel("Display name").fill("Late");
  await latePage.getByLabel("Password").fill(lateUser.password);
  await latePage.getByRole("button", { name: "Sign up" }).click();
  await expect(latePage.getByTestId("auth-error")).toHaveText("This invite is unknown, expired or used up");

  const carol = await personas("Carol");
  await page.getByTestId("admin-user-search").fill(carol.username);
  const row = page.locator(`[data-testid="admin-user-row"][data-username="${carol.username}"]`);
  await row.getByTestId("deactivate-user").click();
  await expect(row.getByTestId("admin-user-status")).toHaveText("Deactivated");

  await expect(carol.page).toHaveURL(/\/sign-in/, { timeout: 20_000 });
  await carol.page.getByLabel("Username").fill(carol.username);
  await carol.page.getByLabel("Password").fill(carol.password);
  await carol.page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(carol.page.getByTestId("auth-error")).toHaveText("Wrong username or password");

  await row.getByRole("button", { name: "Reactivate" }).click();
  await expect(row.getByTestId("admin-user-status")).toHaveText("Active");
  await carol.page.getByRole("button", { name: "Sign in", exact: true }).click();
  await waitForRealtime(carol.page);

  for (const context of [admin, doraContext, late]) await context.close();
});

test("registering through the API names who may sign up: an unknown invite code is refused", async ({ browser }) => {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const user = uniqueUser("Eve");
  const refused = await context.request.post("/api/trpc/auth.register", {
    data: { json: { ...user, inviteCode: "NoSuchInviteCode000000" } },
  });
  expect(refused.status()).toBe(403);
  await registerViaApi(context, uniqueUser("Frank"));
  await context.close();
});
