import { expect, registerViaApi, test, uniqueUser, waitForRealtime } from "./fixtures";

test("a new person signs up, lands in the empty app, signs out and signs back in", async ({ page }) => {
  const user = uniqueUser("Nina");
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);

  await page.getByRole("link", { name: "Create an account" }).click();
  // Both forms have a Username field: wait for the sign-up form before typing.
  await expect(page.getByRole("heading", { name: "Create your Chorus account" })).toBeVisible();
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Display name").fill(user.displayName);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign up" }).click();

  await expect(page.getByTestId("app-shell")).toBeVisible();
  await waitForRealtime(page);
  await expect(page.getByTestId("me-name")).toHaveText(user.displayName);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);

  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("auth-error")).toHaveText("Wrong username or password");

  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("app-shell")).toBeVisible();
  await waitForRealtime(page);
});

test("a taken username is refused with a clear message", async ({ page, request }) => {
  const user = uniqueUser("Omar");
  const first = await request.post("/api/trpc/auth.register", {
    data: { json: { username: user.username, displayName: user.displayName, password: user.password } },
  });
  expect(first.ok()).toBeTruthy();
  await page.goto("/sign-up");
  await page.getByLabel("Username").fill(user.username.toUpperCase());
  await page.getByLabel("Display name").fill("Someone else");
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByTestId("auth-error")).toHaveText("That username is taken");
});

test("a link opened while signed out returns to that page after signing in", async ({ page, context }) => {
  const user = uniqueUser("Pia");
  await registerViaApi(context, user);
  const target = "/c/0b7a6f0e-1b1e-4c1e-9a3e-2f2d6a9b8c7d";
  await page.goto(target);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${target}$`));
});
