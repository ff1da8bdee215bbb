import { expect, test, waitForRealtime } from "./fixtures";
import { ChatApp, openDmViaApi, sendViaApi } from "./pages";

test("offline then back: every message sent meanwhile shows once and in order", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const dm = await openDmViaApi(bob.context, alice.id);

  await sendViaApi(bob.context, dm, "one");
  await a.open("Bob");
  await expect(a.message("one")).toBeVisible();

  await alice.context.setOffline(true);
  await expect(alice.page.getByTestId("connection-banner")).toBeVisible();
  for (const body of ["two", "three", "four"]) await sendViaApi(bob.context, dm, body);
  await alice.context.setOffline(false);

  await waitForRealtime(alice.page);
  await expect(alice.page.getByTestId("connection-banner")).toHaveCount(0);
  await expect.poll(() => a.bodies()).toEqual(["one", "two", "three", "four"]);

  // Live delivery works again, still with no duplicates and seqs strictly increasing.
  await sendViaApi(bob.context, dm, "five");
  await expect.poll(() => a.bodies()).toEqual(["one", "two", "three", "four", "five"]);
  const seqs = await a.seqs();
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  expect(new Set(seqs).size).toBe(seqs.length);
});

test("a send whose answer is lost fails visibly, and Retry stores it exactly once", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const b = new ChatApp(bob.page);
  await openDmViaApi(alice.context, bob.id);
  await a.open("Bob");
  await b.open("Alice");

  // The request reaches the server, but its answer never reaches the browser.
  let dropped = 0;
  await alice.page.route(
    (url) => url.pathname.includes("message.send"),
    async (route) => {
      if (dropped > 0) return route.continue();
      dropped += 1;
      await route.fetch();
      await route.abort("connectionreset");
    },
  );
  await a.send("Did this arrive?");
  const failed = alice.page.locator('[data-testid="message"][data-status="failed"]');
  await expect(failed).toBeVisible();
  await expect(failed.getByTestId("message-error")).toContainText("Not sent");
  await a.screenshot("failed-send");

  await failed.getByTestId("retry-send").click();
  await expect(failed).toHaveCount(0);
  await expect(a.message("Did this arrive?")).toHaveCount(1);
  await expect(a.message("Did this arrive?").getByTestId("message-status")).toHaveAttribute(
    "data-status",
    /sent|delivered|read/,
  );
  // The retry reused the clientMsgId: bob has the message once.
  await expect(b.message("Did this arrive?")).toHaveCount(1);
  expect(dropped).toBe(1);
  await alice.page.reload();
  await expect(a.message("Did this arrive?")).toHaveCount(1);
});

test("server refusals are shown clearly: too fast, and over the length limit", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const dm = await openDmViaApi(alice.context, bob.id);
  await a.open("Bob");

  // The length counter appears near the limit and blocks sending over it.
  await a.composer.fill("x".repeat(3990));
  await expect(alice.page.getByTestId("composer-counter")).toHaveText("10 left");
  await a.composer.fill("x".repeat(4001));
  await expect(alice.page.getByTestId("composer-counter")).toHaveText("1 characters too long");
  await expect(alice.page.getByTestId("send-button")).toBeDisabled();
  await a.composer.fill("");

  // 20 messages in 10 s is the default limit; the next one is refused with a clear reason.
  for (let i = 0; i < 20; i++) await sendViaApi(alice.context, dm, `burst ${i}`);
  await a.send("one too many");
  const failed = alice.page.locator('[data-testid="message"][data-status="failed"]');
  await expect(failed.getByTestId("message-error")).toContainText("too fast");
  await expect(failed.getByTestId("retry-send")).toBeVisible();
  await failed.getByTestId("discard-send").click();
  await expect(failed).toHaveCount(0);
});
