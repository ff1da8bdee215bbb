import { existsSync } from "node:fs";
import { defineConfig, devices } from "@playwright/test";

// Each e2e run starts its own Chorus (PGlite + embedded Soketi) on its own
// ports, data folder and build folder. To run two suites at once in one
// checkout, give each a different E2E_PORT (and E2E_SOKETI_PORT).
const port = Number(process.env.E2E_PORT ?? 3210);
const soketiPort = Number(process.env.E2E_SOKETI_PORT ?? port + 3000);
const dataDir = `./data/e2e-${port}`;
const distDir = port === 3210 ? ".next" : `.next-e2e-${port}`;
const baseURL = `http://localhost:${port}`;
// The notifications spec's local push service (e2e/push-service.ts) and the push service Firefox
// connects to (e2e/mozilla-push-service.ts): the only http endpoints the app may push to.
const pushServicePort = port + 7;
export const firefoxPushPorts = { http: port + 8, ws: port + 9 };
// e2e/sso.spec.ts starts an OpenID provider and a second Chorus (same build, its own data) that
// signs in with it: a "Sign in with …" button on every spec's sign-in page would change what they test.
export const ssoPorts = { oidc: port + 1000, app: port + 2000, soketi: soketiPort + 2000 };
export const e2eDistDir = distDir;

// Debian's Chromium when present (Playwright's own browser download is not
// available everywhere); otherwise Playwright's bundled Chromium.
const chromiumPath = process.env.CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);
const launchOptions = chromiumPath
  ? {
      executablePath: chromiumPath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    }
  : {};

// e2e/push-firefox.spec.ts drives stock Firefox (WebDriver BiDi, the moz-firefox channel): unlike
// Chromium, its push client can be pointed at a local push service, so pushManager.subscribe and
// delivery through a push service run for real. CI installs Debian's firefox-esr.
export const firefoxPath = process.env.FIREFOX_PATH || "/usr/bin/firefox-esr";
export const firefoxUserPrefs = {
  "dom.push.enabled": true,
  "dom.push.connection.enabled": true,
  "dom.push.serverURL": `ws://127.0.0.1:${firefoxPushPorts.ws}/`,
  "dom.push.testing.allowInsecureServerURL": true,
  // No desktop notification daemon on a headless machine: Firefox shows its own alert window.
  "alerts.useSystemBackend": false,
  "alerts.disableSlidingEffect": true,
};

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results",
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  workers: process.env.CI ? 2 : undefined,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions,
  },
  projects: [
    { name: "chromium", testIgnore: /push-firefox\.spec\.ts/, use: { ...devices["Desktop Chrome"], launchOptions } },
    {
      name: "firefox",
      testMatch: /push-firefox\.spec\.ts/,
      use: {
        browserName: "firefox",
        channel: "moz-firefox",
        viewport: { width: 1280, height: 720 },
        launchOptions: { executablePath: firefoxPath, firefoxUserPrefs },
      },
    },
  ],
  webServer: {
    // A fresh database per run; `scripts/start.mjs` builds first when sources changed.
    command: `node -e "require('fs').rmSync('${dataDir}',{recursive:true,force:true})" && node scripts/start.mjs`,
    url: `${baseURL}/api/health`,
    timeout: 300_000,
    reuseExistingServer: !process.env.CI,
    // Lets the start script stop Next.js and Soketi cleanly instead of being killed.
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(port),
      SOKETI_PORT: String(soketiPort),
      DATA_DIR: dataDir,
      PGLITE_DIR: `${dataDir}/pglite`,
      NEXT_DIST_DIR: distDir,
      DATABASE_URL: "",
      PUSHER_HOST: "",
      LOG_LEVEL: "warn",
      // Every spec signs people up from this one machine: lift the per-address sign-up limit.
      SIGNUP_RATE_LIMIT: "100000",
      WEB_PUSH_ALLOW_HOSTS: `127.0.0.1:${pushServicePort},127.0.0.1:${firefoxPushPorts.http}`,
      PUSH_POLL_MS: "200",
      // Link previews reach the spec's local page on the next port (loopback is refused otherwise).
      LINK_PREVIEW_ALLOW_HOSTS: `127.0.0.1:${port + 1}`,
      UPLOAD_MAX_BYTES: String(5 * 1024 * 1024),
      // e2e/admin.spec.ts signs up this username and finds it a site admin.
      ADMIN_USERNAMES: "e2e_root",
      // Short throttles so e2e waits stay brief; production defaults are in server/env.js.
      ...(process.env.E2E_EXTRA_ENV ? JSON.parse(process.env.E2E_EXTRA_ENV) : {}),
    },
  },
});
