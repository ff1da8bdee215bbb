import { createServer, type Server } from "node:http";
import Provider from "oidc-provider";
import { oidcPort } from "../playwright.config";
import { expect, test, waitForRealtime } from "./fixtures";

// A real, certified OpenID provider on loopback, as the server's OIDC_* variables (playwright.config.ts) expect it.
let idp: Server;

test.beforeAll(async () => {
  const baseURL = String(test.info().project.use.baseURL);
  const provider = new Provider(`http://127.0.0.1:${oidcPort}`, {
    clients: [
      {
        client_id: "chorus-e2e",
        client_secret: "chorus-e2e-client-secret",
        redirect_uris: [`${baseURL}/api/auth/callback/oidc`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    // Any login the dev sign-in form is given is an account; its claims follow from its name.
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({
        sub: `sub-${id}`,
        email: `${id}@example.test`,
        email_verified: true,
        preferred_username: id,
        name: `Olivia ${id.slice(-4)}`,
      }),
    }),
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "preferred_username"] },
    // next-auth reads the person from the ID token: put the scopes' claims in it.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
  });
  idp = createServer(provider.callback());
  await new Promise<void>((resolve) => idp.listen(oidcPort, "127.0.0.1", resolve));
});

test.afterAll(async () => {
  await new Promise((resolve) => idp?.close(resolve));
});

/** Through the provider's own sign-in and consent pages, back to Chorus. */
async function signInAtProvider(page: import("@playwright/test").Page, login: string) {
  await page.goto("/sign-in");
  await page.getByTestId("sso-sign-in").click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
}

test("a person signs in with the organisation's provider: an account is made on the first visit and found again on the next", async ({
  browser,
}) => {
  const baseURL = test.info().project.use.baseURL;
  const login = `olivia${Date.now().toString(36)}`;
  const first = await browser.newContext({ baseURL });
  const page = await first.newPage();
  await expect(async () => {
    await page.goto("/sign-in");
    await expect(page.getByTestId("sso-sign-in")).toHaveText("Sign in with Test IdP");
  }).toPass();
  await signInAtProvider(page, login);
  await waitForRealtime(page);
  await expect(page.getByTestId("me-name")).toHaveText(`Olivia ${login.slice(-4)}`);
  const me = await page.request.get("/api/trpc/user.me");
  const firstId = (await me.json()).result.data.json.id as string;
  expect((await me.json()).result.data.json.username).toBe(login);

  const second = await browser.newContext({ baseURL });
  const again = await second.newPage();
  await signInAtProvider(again, login);
  await waitForRealtime(again);
  const meAgain = await again.request.get("/api/trpc/user.me");
  expect((await meAgain.json()).result.data.json.id).toBe(firstId);
  await first.close();
  await second.close();
});
