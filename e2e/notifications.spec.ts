import type { CDPSession, Page } from "@playwright/test";
import type { PushPayload } from "@/lib/notification-text";
import type { TestPushService } from "../server/testing/push-endpoint";
import { expect, test, waitForLiveConversations, waitForRealtime } from "./fixtures";
import { ChatApp, openDmViaApi, sendViaApi, shownNotifications, signedInWithoutOpening, trpc } from "./pages";
import { startPushService } from "./push-service";

// The push service spec runs its tests one after another: they share the one local push service port.
test.describe.configure({ mode: "serial" });

let service: TestPushService;
let serverKey: string | null = null;

test.beforeAll(async () => {
  service = await startPushService(() => serverKey);
});
test.afterAll(async () => {
  await service.close();
});

/** Hands a push to the page's real service worker, as Chromium's push client does once it has decrypted one. */
async function deliverToServiceWorker(page: Page, cdp: CDPSession, payload: PushPayload) {
  const origin = new URL(page.url()).origin;
  // Registered is not yet active: a push handed to a worker still installing is dropped.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const registrationId = await new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", (event) => {
      const found = event.registrations.find((r) => r.scopeURL === `${origin}/` && !r.isDeleted);
      if (found) resolve(found.registrationId);
    });
    void cdp.send("ServiceWorker.enable");
  });
  await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(payload) });
}

/**
 * What the page asked the browser to show, as the browser's list would hold it: the latest per tag,
 * counted once the browser accepted it. Headless Chromium's getNotifications() sometimes comes back
 * empty just after a notification it accepted (about 1 run in 25, with or without this change): it
 * prunes its list against a display service a headless browser does not have.
 */
async function recordAlerts(page: Page) {
  const patch = () => {
    const w = window as unknown as { __alerts?: { title: string; body?: string; tag?: string; url?: string }[] };
    if (w.__alerts) return;
    w.__alerts = [];
    const show = ServiceWorkerRegistration.prototype.showNotification;
    ServiceWorkerRegistration.prototype.showNotification = async function (title, options) {
      await show.call(this, title, options);
      const alert = { title, body: options?.body, tag: options?.tag, url: (options?.data as { url?: string })?.url };
      w.__alerts = [...(w.__alerts ?? []).filter((a) => a.tag !== alert.tag), alert];
    };
  };
  await page.context().addInitScript(patch);
  await page.evaluate(patch);
}

const recordedAlerts = (page: Page) =>
  page.evaluate(() => (window as unknown as { __alerts: { title: string; body?: string }[] }).__alerts);

/**
 * Hides the tab as far as the page can tell. Headless Chromium keeps every page
 * "visible" (a tab in front, a minimized window: tried, no change), so only the
 * visibility signal is emulated; the message, the service worker's notification,
 * the title and the favicon that follow are all real.
 */
async function hideTab(page: Page) {
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

test("a DM to bob while Chorus is closed is pushed, encrypted, to his device, and his service worker shows it", async ({
  browser,
  baseURL,
}) => {
  const aliceContext = await browser.newContext({ baseURL });
  const bobContext = await browser.newContext({ baseURL });
  await bobContext.grantPermissions(["notifications"], { origin: baseURL });
  await signedInWithoutOpening(aliceContext, "Alice");
  const bob = await signedInWithoutOpening(bobContext, "Bob");
  serverKey = (await trpc<{ publicKey: string }>(bobContext, "push.publicKey", undefined, "query")).publicKey;

  // Bob's device, as a push service knows it: the app pushes to it only over the allow-listed local endpoint.
  const device = service.device("bob-device");
  await trpc(bobContext, "push.subscribe", { endpoint: device.endpoint, keys: device.keys }, "mutation");

  // Bob has no tab open: alice's message reaches him as a push, signed and encrypted for his device.
  const dm = await openDmViaApi(aliceContext, bob.id);
  await sendViaApi(aliceContext, dm, "Are we still on for 6?");
  await service.waitFor(1);
  expect(service.rejected).toEqual([]);
  const [push] = service.forDevice("bob-device");
  expect(push).toMatchObject({ title: "Alice", body: "Are we still on for 6?", url: `/c/${dm}`, unread: 1 });

  // His own message is never pushed to him (and replying read the conversation: the count starts again).
  await sendViaApi(bobContext, dm, "Yes!");
  await sendViaApi(aliceContext, dm, "Great, see you");
  // The count is read when the push is planned: wait for each before the next message.
  await service.waitFor(2);
  await sendViaApi(aliceContext, dm, "Bring snacks");
  await service.waitFor(3);
  expect(service.forDevice("bob-device").map((p) => p.body)).toEqual([
    "Are we still on for 6?",
    "Great, see you",
    "2 new messages from Alice\nBring snacks",
  ]);
  expect(new Set(service.forDevice("bob-device").map((p) => p.tag))).toEqual(new Set([`chorus-conversation-${dm}`]));

  // The payload the app sent goes into his browser's real service worker, which shows it.
  const page = await bobContext.newPage();
  await page.goto("/");
  await waitForRealtime(page);
  await expect(page.locator("html")).toHaveAttribute("data-service-worker", "registered");
  const cdp = await bobContext.newCDPSession(page);
  await deliverToServiceWorker(page, cdp, service.forDevice("bob-device")[2]);
  await expect
    .poll(() => shownNotifications(page))
    .toEqual([
      {
        title: "Alice",
        body: "2 new messages from Alice\nBring snacks",
        tag: `chorus-conversation-${dm}`,
        url: `/c/${dm}`,
      },
    ]);

  // Now that bob has a tab open (he shows online), the app no longer pushes to him.
  await expect
    .poll(
      async () =>
        (await trpc<{ status: string }[]>(aliceContext, "presence.get", { userIds: [bob.id] }, "query"))[0]?.status,
    )
    .toBe("online");
  const carolContext = await browser.newContext({ baseURL });
  const carol = await signedInWithoutOpening(carolContext, "Carol");
  const carolDevice = service.device("carol-device");
  await trpc(carolContext, "push.subscribe", { endpoint: carolDevice.endpoint, keys: carolDevice.keys }, "mutation");
  await sendViaApi(aliceContext, dm, "Bring the tickets");
  await expect(new ChatApp(page).unreadBadge("Alice")).toHaveText("3");
  // Pushes are planned in send order: once carol's later push is in, bob's message was planned too.
  await sendViaApi(aliceContext, await openDmViaApi(aliceContext, carol.id), "Hi Carol");
  await service.waitFor(4);
  expect(service.received.map((r) => r.device)).toEqual(["bob-device", "bob-device", "bob-device", "carol-device"]);
  for (const context of [aliceContext, bobContext, carolContext]) await context.close();
});

test("bob turns notifications on from the settings panel: permission is asked only then, and this browser subscribes", async ({
  personas,
}) => {
  const bob = await personas("Bob");
  // Nothing asked for on load.
  expect(await bob.page.evaluate(() => Notification.permission)).toBe("default");
  await bob.context.grantPermissions(["notifications"]);
  await bob.page.getByTestId("notification-settings-button").click();
  const panel = bob.page.getByTestId("notification-settings");
  await expect(panel.getByTestId("push-state")).toHaveAttribute("data-state", "off");
  await panel.getByTestId("push-enable").click();
  // Chromium's own push service is on the internet, which these tests never reach: either the
  // browser subscribes (and the app records it) or the panel says plainly why it could not.
  await expect(panel.getByTestId("push-state")).toHaveAttribute("data-state", /on|off/);
  const outcome = await Promise.race([
    panel
      .getByTestId("push-disable")
      .waitFor()
      .then(() => "subscribed" as const),
    panel
      .getByTestId("notification-settings-error")
      .waitFor()
      .then(() => "refused" as const),
  ]);
  if (outcome === "refused") {
    await expect(panel.getByTestId("notification-settings-error")).toContainText("Could not turn notifications on");
  } else {
    const endpoint = await bob.page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.pushManager.getSubscription())?.endpoint ?? null;
    });
    expect(endpoint).toMatch(/^https:\/\//);
  }
  test.info().annotations.push({
    type: "pushManager.subscribe",
    description:
      outcome === "refused" ? ((await panel.getByTestId("notification-settings-error").textContent()) ?? "") : outcome,
  });

  // Defaults and the preview choice save at once and survive a reload.
  await panel.getByTestId("default-group-level").selectOption("mentions");
  await panel.getByTestId("notify-preview").uncheck();
  await expect(panel.getByTestId("notify-preview")).not.toBeChecked();
  await expect
    .poll(() =>
      trpc<{ groupLevel: string; preview: boolean }>(bob.context, "notification.settings", undefined, "query"),
    )
    .toEqual({ dmLevel: "all", groupLevel: "mentions", preview: false });
});

test("a hidden tab shows a notification for a message itself, and its title and favicon count the unread", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  await bob.context.grantPermissions(["notifications"]);
  const dm = await openDmViaApi(alice.context, bob.id);
  const b = new ChatApp(bob.page);
  await expect(b.conversation("Alice")).toBeVisible();
  await expect(bob.page.locator("html")).toHaveAttribute("data-service-worker", "registered");
  await waitForLiveConversations(bob.page, 1);
  await recordAlerts(bob.page);

  // Bob switches away: his Chorus tab is hidden.
  await hideTab(bob.page);

  await sendViaApi(alice.context, dm, "Dinner at 8?");
  await expect
    .poll(() => recordedAlerts(bob.page))
    .toEqual([{ title: "Alice", body: "Dinner at 8?", tag: `chorus-conversation-${dm}`, url: `/c/${dm}` }]);
  await expect(bob.page).toHaveTitle("(1) Chorus");
  await expect(bob.page.locator("html")).toHaveAttribute("data-favicon-count", "1");
  expect(await bob.page.locator('link[rel="icon"]').getAttribute("href")).toMatch(/^data:image\/png/);

  // Muting the DM: no alert, and the badge leaves the title count.
  await trpc(bob.context, "conversation.setNotifications", { conversationId: dm, level: "none" }, "mutation");
  await expect(b.conversation("Alice").getByTestId("muted-icon")).toBeVisible();
  await sendViaApi(alice.context, dm, "Or 9?");
  await expect(b.unreadBadge("Alice")).toHaveText("2");
  await expect(bob.page).toHaveTitle("Chorus");
  expect((await recordedAlerts(bob.page)).map((n) => n.body)).toEqual(["Dinner at 8?"]);

  // Back to every message, with message text hidden: the alert says who, not what.
  await trpc(bob.context, "conversation.setNotifications", { conversationId: dm, level: "all" }, "mutation");
  await expect(b.conversation("Alice").getByTestId("muted-icon")).toHaveCount(0);
  await trpc(bob.context, "notification.updateSettings", { preview: false }, "mutation");
  await bob.page.reload();
  await waitForRealtime(bob.page);
  await waitForLiveConversations(bob.page, 1);
  await hideTab(bob.page);
  await sendViaApi(alice.context, dm, "The code is 4711");
  await expect
    .poll(async () => (await recordedAlerts(bob.page)).map((n) => n.body))
    .toEqual(["3 new messages from Alice"]);
  await expect(bob.page).toHaveTitle("(3) Chorus");
});

test("bob picks a level and a snooze for one conversation from its header", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  await openDmViaApi(alice.context, bob.id);
  const b = new ChatApp(bob.page);
  await b.open("Alice");
  const level = bob.page.getByTestId("notify-level");
  await expect(level).toHaveAttribute("data-level", "all");
  await level.selectOption("mentions");
  await expect(level).toHaveAttribute("data-level", "mentions");
  await bob.page.getByTestId("snooze").selectOption("8");
  await expect(bob.page.getByTestId("snooze")).toHaveAttribute("data-snoozed", "true");
  await level.selectOption("none");
  await expect(b.conversation("Alice").getByTestId("muted-icon")).toBeVisible();
  await bob.page.reload();
  await waitForRealtime(bob.page);
  await expect(bob.page.getByTestId("notify-level")).toHaveAttribute("data-level", "none");
  await expect(bob.page.getByTestId("snooze")).toHaveAttribute("data-snoozed", "true");
});
