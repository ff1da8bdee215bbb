import { type BrowserContext, firefox } from "@playwright/test";
import { firefoxPath, firefoxUserPrefs } from "../playwright.config";
import { expect, test, waitForRealtime } from "./fixtures";
import { type MozillaPushService, startMozillaPushService } from "./mozilla-push-service";
import { ChatApp, openDmViaApi, sendViaApi, shownNotifications, signedInWithoutOpening, trpc } from "./pages";
import { startVirtualDisplay } from "./virtual-display";

// Runs in the "firefox" project (stock Firefox over WebDriver BiDi), whose push client
// playwright.config.ts points at this spec's push service; one service, so one test at a time.
test.describe.configure({ mode: "serial" });

let service: MozillaPushService;

test.beforeAll(async () => {
  service = await startMozillaPushService();
});
test.afterAll(async () => {
  await service.close();
});

const presenceOf = async (viewer: BrowserContext, userId: string) =>
  (await trpc<{ status: string }[]>(viewer, "presence.get", { userIds: [userId] }, "query"))[0]?.status;

test("bob turns push on in Firefox: it subscribes with its push service, and alice's DMs while Chorus is closed reach his service worker through it", async ({
  browser,
  baseURL,
}) => {
  const aliceContext = await browser.newContext({ baseURL });
  await signedInWithoutOpening(aliceContext, "Alice");
  const bobContext = await browser.newContext({ baseURL });
  const bob = await signedInWithoutOpening(bobContext, "Bob");
  const dm = await openDmViaApi(aliceContext, bob.id);
  let page = await bobContext.newPage();
  await page.goto("/");
  await waitForRealtime(page);
  await expect(page.locator("html")).toHaveAttribute("data-service-worker", "registered");
  expect(await page.evaluate(() => Notification.permission)).toBe("default");
  // Stands in for bob's "Allow" on the browser's prompt, which headless Firefox cannot show.
  await bobContext.grantPermissions(["notifications"], { origin: baseURL });

  // The real settings click: Firefox's pushManager.subscribe registers with the push service, the app records it.
  await page.getByTestId("notification-settings-button").click();
  const panel = page.getByTestId("notification-settings");
  await panel.getByTestId("push-enable").click();
  await expect(panel.getByTestId("push-state")).toHaveAttribute("data-state", "on");
  await expect(panel.getByTestId("notification-settings-error")).toHaveCount(0);
  const { publicKey } = await trpc<{ publicKey: string }>(bobContext, "push.publicKey", undefined, "query");
  expect(service.registrations).toHaveLength(1);
  const [registration] = service.registrations;
  // Firefox subscribed with the app's VAPID key: the push service accepts only pushes that key signs.
  expect(registration.key?.replace(/=+$/, "")).toBe(publicKey);
  const endpoint = await page.evaluate(
    async () => (await (await navigator.serviceWorker.ready).pushManager.getSubscription())?.endpoint,
  );
  expect(endpoint).toBe(registration.endpoint);

  // Bob closes Chorus: his last tab's socket goes, and with it his presence.
  await page.close();
  await expect.poll(() => presenceOf(aliceContext, bob.id)).toBe("offline");

  await sendViaApi(aliceContext, dm, "Are we still on for 6?");
  // Signed by the app, relayed still encrypted over Firefox's socket, decrypted and acked by Firefox.
  await service.waitForAcks(1);
  expect(service.acks[0]).toMatchObject({ channelID: registration.channelID, code: 100 });
  expect(service.http.relayed).toEqual([{ device: registration.channelID, bytes: expect.any(Number), status: 201 }]);
  expect(service.http.rejected).toEqual([]);
  expect(service.nacks).toEqual([]);

  // Any page of the origin sees what the service worker showed.
  page = await bobContext.newPage();
  await page.goto("/");
  await expect
    .poll(() => shownNotifications(page))
    .toEqual([{ title: "Alice", body: "Are we still on for 6?", tag: `chorus-conversation-${dm}`, url: `/c/${dm}` }]);

  // Bob hides message text in notifications, then closes Chorus again.
  await page.getByTestId("notification-settings-button").click();
  await page.getByTestId("notify-preview").uncheck();
  await expect
    .poll(
      async () => (await trpc<{ preview: boolean }>(bobContext, "notification.settings", undefined, "query")).preview,
    )
    .toBe(false);
  await page.close();
  await expect.poll(() => presenceOf(aliceContext, bob.id)).toBe("offline");

  await sendViaApi(aliceContext, dm, "The code is 4711");
  await service.waitForAcks(2);
  expect(service.acks[1]).toMatchObject({ channelID: registration.channelID, code: 100 });
  expect(service.nacks).toEqual([]);
  page = await bobContext.newPage();
  await page.goto("/");
  // One notification per conversation, replaced in place: who wrote and how much, not what.
  await expect
    .poll(() => shownNotifications(page))
    .toEqual([
      { title: "Alice", body: "2 new messages from Alice", tag: `chorus-conversation-${dm}`, url: `/c/${dm}` },
    ]);

  // Turning push off unsubscribes Firefox from its push service, and the endpoint is gone.
  await page.getByTestId("notification-settings-button").click();
  await page.getByTestId("push-disable").click();
  await expect(page.getByTestId("push-state")).toHaveAttribute("data-state", "off");
  expect(service.unregistered).toEqual([registration.channelID]);
  for (const context of [aliceContext, bobContext]) await context.close();
});

test("in Firefox a tab behind another is truly hidden: Chorus there shows the alert itself, and its title and favicon count the unread", async ({
  personas,
  baseURL,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  await bob.context.grantPermissions(["notifications"], { origin: baseURL });
  const dm = await openDmViaApi(alice.context, bob.id);
  const b = new ChatApp(bob.page);
  await expect(b.conversation("Alice")).toBeVisible();
  await expect(bob.page.locator("html")).toHaveAttribute("data-service-worker", "registered");

  // Bob opens another tab in front of Chorus: Firefox itself hides the Chorus tab, nothing is emulated.
  const [other] = await Promise.all([
    bob.context.waitForEvent("page"),
    bob.page.evaluate(() => void window.open("about:blank")),
  ]);
  await expect.poll(() => bob.page.evaluate(() => document.visibilityState)).toBe("hidden");

  await sendViaApi(alice.context, dm, "Dinner at 8?");
  await expect
    .poll(() => shownNotifications(bob.page))
    .toEqual([{ title: "Alice", body: "Dinner at 8?", tag: `chorus-conversation-${dm}`, url: `/c/${dm}` }]);
  await expect(bob.page).toHaveTitle("(1) Chorus");
  await expect(bob.page.locator("html")).toHaveAttribute("data-favicon-count", "1");

  // Back on Chorus, he reads it: the count goes.
  await other.close();
  await bob.page.bringToFront();
  await expect
    .poll(() => bob.page.evaluate(() => [document.visibilityState, document.hasFocus()]))
    .toEqual(["visible", true]);
  await b.open("Alice");
  await expect(bob.page).toHaveTitle("Chorus");
});

test("bob clicks the notification on Firefox's own alert window: with Chorus closed it opens on the conversation; open behind another tab, that tab switches to it", async ({
  baseURL,
}) => {
  // A headed Firefox on a virtual display: the alert is a browser window, clicked as a mouse would.
  const display = await startVirtualDisplay();
  const browser = await firefox.launch({
    channel: "moz-firefox",
    executablePath: firefoxPath,
    firefoxUserPrefs,
    headless: false,
    env: { ...process.env, DISPLAY: display.name },
  });
  try {
    const aliceContext = await browser.newContext({ baseURL });
    await signedInWithoutOpening(aliceContext, "Alice");
    const bobContext = await browser.newContext({ baseURL });
    const bob = await signedInWithoutOpening(bobContext, "Bob");
    const dm = await openDmViaApi(aliceContext, bob.id);
    await bobContext.grantPermissions(["notifications"], { origin: baseURL });
    const page = await bobContext.newPage();
    await page.goto("/");
    await waitForRealtime(page);
    await page.getByTestId("notification-settings-button").click();
    await page.getByTestId("push-enable").click();
    await expect(page.getByTestId("push-state")).toHaveAttribute("data-state", "on");
    await page.close();
    await expect.poll(() => presenceOf(aliceContext, bob.id)).toBe("offline");

    const acked = service.acks.length;
    await sendViaApi(aliceContext, dm, "Are we still on for 6?");
    await service.waitForAcks(acked + 1);
    const opened = bobContext.waitForEvent("page");
    // The alert's text, away from its close button.
    await display.click("alert", { x: 80, y: 40 });
    // The service worker found no Chorus window and opened one on the conversation.
    const chorus = await opened;
    await expect(chorus).toHaveURL(`${baseURL}/c/${dm}`);
    await waitForRealtime(chorus);
    await expect(chorus.getByTestId("message-body").filter({ hasText: "Are we still on for 6?" })).toBeVisible();
    await expect.poll(() => shownNotifications(chorus)).toEqual([]);

    // Chorus open on the list, behind another tab: its own alert, clicked, switches it to the conversation.
    await chorus.goto("/");
    await waitForRealtime(chorus);
    const [other] = await Promise.all([
      bobContext.waitForEvent("page"),
      chorus.evaluate(() => void window.open("about:blank")),
    ]);
    await expect.poll(() => chorus.evaluate(() => document.visibilityState)).toBe("hidden");
    await sendViaApi(aliceContext, dm, "Bring snacks");
    await expect
      .poll(async () => (await shownNotifications(chorus)).map((n) => n.body))
      .toEqual([expect.stringContaining("Bring snacks")]);
    await display.click("alert", { x: 80, y: 40 });
    // The service worker tells the open tab to switch conversation rather than opening another window.
    // (It also calls focus(): Firefox resolves it but leaves the tab behind the other, so that is not asserted.)
    await expect(chorus).toHaveURL(`${baseURL}/c/${dm}`);
    await expect(chorus.getByTestId("message-body").filter({ hasText: "Bring snacks" })).toBeVisible();
    await expect.poll(() => shownNotifications(chorus)).toEqual([]);
    expect(bobContext.pages()).toEqual([chorus, other]);
  } finally {
    await browser.close();
    display.close();
  }
});
