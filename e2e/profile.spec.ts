import sharp from "sharp";
import { expect, signInViaApi, test, waitForRealtime } from "./fixtures";

/** A 900x600 photo-like JPEG, bigger than an avatar needs. */
async function photo(): Promise<Buffer> {
  return sharp({ create: { width: 900, height: 600, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .jpeg()
    .toBuffer();
}

test("alice sets her name and picture on the profile screen, and bob sees both", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  await alice.page.getByTestId("profile-link").click();
  await expect(alice.page.getByTestId("profile-page")).toBeVisible();

  await alice.page.getByLabel("Display name").fill("Alice Liddell");
  await alice.page.getByRole("button", { name: "Save name" }).click();
  await expect(alice.page.getByRole("status")).toHaveText("Saved.");

  await alice.page
    .getByTestId("avatar-input")
    .setInputFiles({ name: "me.jpg", mimeType: "image/jpeg", buffer: await photo() });
  const picture = alice.page.getByRole("img", { name: "Alice Liddell" }).locator("img");
  await expect(picture).toHaveAttribute("src", new RegExp(`^/api/avatars/${alice.id}\\?v=\\d+$`));
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(128);

  const found = await bob.page.request.get(
    `/api/trpc/user.search?input=${encodeURIComponent(JSON.stringify({ json: { query: "Alice Liddell" } }))}`,
  );
  const [seen] = (await found.json()).result.data.json as { displayName: string; avatarUrl: string }[];
  expect(seen).toMatchObject({ displayName: "Alice Liddell" });
  expect((await bob.page.request.get(seen.avatarUrl)).headers()["content-type"]).toBe("image/webp");

  const download = alice.page.waitForEvent("download");
  await alice.page.getByTestId("export-data").click();
  expect((await download).suggestedFilename()).toMatch(new RegExp(`^chorus-${alice.username}-[\\d-]+\\.zip$`));
});

test("alice signs out everywhere from her laptop: her phone's open app is sent to sign in", async ({
  personas,
  browser,
}) => {
  const alice = await personas("Alice");
  const phone = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  await signInViaApi(phone, alice);
  const phonePage = await phone.newPage();
  await phonePage.goto("/");
  await waitForRealtime(phonePage);

  await alice.page.goto("/profile");
  await alice.page.getByTestId("sign-out-everywhere").click();
  await expect(alice.page).toHaveURL(/\/sign-in/);
  // The phone's socket is closed; its next call is refused and it goes to the sign-in page.
  await expect(phonePage).toHaveURL(/\/sign-in/, { timeout: 20_000 });
  await phone.close();
});

test("alice changes her password: this browser stays signed in, her other one is signed out, the old password stops working", async ({
  personas,
  browser,
}) => {
  const alice = await personas("Alice");
  const other = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  await signInViaApi(other, alice);
  const otherPage = await other.newPage();
  await otherPage.goto("/");
  await waitForRealtime(otherPage);

  await alice.page.goto("/profile");
  const form = alice.page.getByTestId("password-form");
  await form.getByLabel("Current password").fill("not my password");
  await form.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await form.getByLabel("Repeat the new password").fill("a brand new passphrase");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByRole("alert")).toHaveText("Your current password is not right");

  await form.getByLabel("Current password").fill(alice.password);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByRole("status")).toContainText("Password changed");
  await alice.page.goto("/");
  await waitForRealtime(alice.page);
  await expect(alice.page.getByTestId("me-name")).toHaveText("Alice");

  // The other tab learns its session ended (its socket is closed, sign-in refused) and goes to
  // sign-in by itself; reloading at that moment raced its own navigation.
  await expect(otherPage).toHaveURL(/\/sign-in/);
  await otherPage.getByLabel("Username").fill(alice.username);
  await otherPage.getByLabel("Password").fill(alice.password);
  await otherPage.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(otherPage.getByTestId("auth-error")).toHaveText("Wrong username or password");
  await otherPage.getByLabel("Password").fill("a brand new passphrase");
  await otherPage.getByRole("button", { name: "Sign in", exact: true }).click();
  await waitForRealtime(otherPage);
  await other.close();
});
