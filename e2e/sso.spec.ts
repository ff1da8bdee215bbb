import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { createServer, type Server } from "node:http";
import type { Page } from "@playwright/test";
import Provider from "oidc-provider";
import { e2eDistDir, ssoPorts } from "../playwright.config";
import { expect, test, waitForRealtime } from "./fixtures";

// A real, certified OpenID provider on loopback, and a Chorus of its own (the e2e build, its own
// database and Soketi) whose OIDC_* variables point at it.
let idp: Server;
let chorus: ChildProcess;
const baseURL = `http://localhost:${ssoPorts.app}`;
const dataDir = `./data/e2e-sso-${ssoPorts.app}`;

test.describe.configure({ mode: "serial" });

async function healthy(url: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (chorus.exitCode !== null) throw new Error(`the SSO Chorus exited with ${chorus.exitCode}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  const provider = new Provider(`http://127.0.0.1:${ssoPorts.oidc}`, {
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
  await new Promise<void>((resolve) => idp.listen(ssoPorts.oidc, "127.0.0.1", resolve));

  rmSync(dataDir, { recursive: true, force: true });
  // The bundle the e2e web server built and runs (scripts/start.mjs would rebuild it in place
  // whenever Next's first build rewrote tsconfig.json, under the running server's feet).
  chorus = spawn(process.execPath, [path.join(e2eDistDir, "chorus", "server.mjs")], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      PORT: String(ssoPorts.app),
      SOKETI_PORT: String(ssoPorts.soketi),
      DATA_DIR: dataDir,
      PGLITE_DIR: `${dataDir}/pglite`,
      NEXT_DIST_DIR: e2eDistDir,
      DATABASE_URL: "",
      PUSHER_HOST: "",
      LOG_LEVEL: "warn",
      OIDC_ISSUER: `http://127.0.0.1:${ssoPorts.oidc}`,
      OIDC_CLIENT_ID: "chorus-e2e",
      OIDC_CLIENT_SECRET: "chorus-e2e-client-secret",
      OIDC_NAME: "Test IdP",
    },
  });
  await healthy(`${baseURL}/api/health`, 150_000);
});

test.afterAll(async () => {
  if (chorus && chorus.exitCode === null) {
    const exited = new Promise((resolve) => chorus.once("exit", resolve));
    chorus.kill("SIGTERM");
    await exited;
  }
  await new Promise((resolve) => idp?.close(resolve));
});

/** Through the provider's own sign-in and consent pages, back to Chorus. */
async function signInAtProvider(page: Page, login: string) {
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

test("a server without OIDC_* set shows no single sign-on button", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.getByTestId("sign-in-form")).toBeVisible();
  await expect(page.getByTestId("sso-sign-in")).toHaveCount(0);
});
