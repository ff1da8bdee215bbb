import { expect, test } from "@playwright/test";
import { registerViaApi, signInViaApi, uniqueUser } from "./fixtures";

test("after 10 wrong passwords the sign-in form says to wait, even for the right password", async ({
  page,
  context,
}) => {
  const user = uniqueUser("Locked");
  await registerViaApi(context, user);
  const csrf = (await (await context.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  for (let i = 0; i < 10; i++) {
    const wrong = await context.request.post("/api/auth/callback/credentials", {
      form: { csrfToken: csrf.csrfToken, username: user.username, password: `guess ${i}`, json: "true" },
    });
    expect(wrong.status()).toBe(401);
  }
  await page.goto("/sign-in");
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("auth-error")).toHaveText(/^Too many attempts, try again in \d+ minutes?$/);
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a signed-in visit to /sign-in with a hostile next= stays on this site", async ({ browser }) => {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const user = uniqueUser("Redirect");
  await registerViaApi(context, user);
  await signInViaApi(context, user);
  for (const next of [
    "%2F%09%2Fevil.example",
    "%2F%0A%2Fevil.example",
    "%2F%5Cevil.example",
    "%2F.%2F%2Fevil.example",
  ]) {
    const answer = await context.request.get(`/sign-in?next=${next}`, { maxRedirects: 0 });
    expect(answer.status(), next).toBe(307);
    expect(answer.headers().location, next).toBe("/");
  }
  const safe = await context.request.get(`/sign-in?next=${encodeURIComponent("/c/abc?x=1")}`, { maxRedirects: 0 });
  expect(safe.headers().location).toBe("/c/abc?x=1");
  await context.close();
});
