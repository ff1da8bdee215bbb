import { expect, test } from "./fixtures";
import { ChatApp, openDmViaApi, sendViaApi } from "./pages";

const XSS = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> see https://example.com/a?b=1, not javascript:alert(1)`;

test("HTML and scripts in a message are shown as text; only http(s) links are clickable", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const dm = await openDmViaApi(bob.context, alice.id);
  await sendViaApi(bob.context, dm, XSS);
  await a.open("Bob");

  const body = a.message(XSS).getByTestId("message-body");
  await expect(body).toHaveText(XSS);
  await expect(body.locator("img, script")).toHaveCount(0);
  const link = body.getByRole("link");
  await expect(link).toHaveCount(1);
  await expect(link).toHaveAttribute("href", "https://example.com/a?b=1");
  await expect(link).toHaveAttribute("rel", /noopener/);
  await expect(link).toHaveAttribute("rel", /noreferrer/);
  expect(await alice.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await expect(a.conversation("Bob").getByTestId("conversation-preview")).toContainText("<script>");
});

test("typing shows in the header and presence flips when the peer closes the page", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const b = new ChatApp(bob.page);
  await openDmViaApi(alice.context, bob.id);
  await a.open("Bob");
  await b.open("Alice");

  await expect(alice.page.getByTestId("chat-subtitle")).toHaveText("online");
  await expect(a.conversation("Bob").getByTestId("presence-dot")).toHaveAttribute("data-status", "online");

  await b.composer.pressSequentially("hello the");
  await expect(alice.page.getByTestId("typing-indicator")).toHaveText("Bob is typing…");
  await b.composer.press("Enter");
  await expect(a.message("hello the")).toBeVisible();
  await expect(alice.page.getByTestId("typing-indicator")).toHaveCount(0);

  // Bob says he is busy, then goes back to automatic.
  await bob.page.getByTestId("my-status").selectOption("busy");
  await expect(alice.page.getByTestId("chat-subtitle")).toHaveText("busy");
  await bob.page.getByTestId("my-status").selectOption("auto");
  await expect(alice.page.getByTestId("chat-subtitle")).toHaveText("online");

  await bob.page.close();
  await expect(alice.page.getByTestId("chat-subtitle")).toHaveAttribute("data-presence", "offline");
  await expect(alice.page.getByTestId("chat-subtitle")).toContainText("last seen");
});

test("on a narrow screen the list and the chat are separate views", async ({ personas }) => {
  const bob = await personas("Bob");
  const alice = await personas("Alice", { viewport: { width: 390, height: 780 } });
  const a = new ChatApp(alice.page);
  const dm = await openDmViaApi(bob.context, alice.id);
  await sendViaApi(bob.context, dm, "Mobile check");

  await expect(a.conversation("Bob")).toBeVisible();
  await expect(alice.page.getByTestId("chat-empty")).toBeHidden();
  await a.screenshot("narrow-list");
  await a.open("Bob");
  await expect(a.conversation("Bob")).toBeHidden();
  await expect(a.message("Mobile check")).toBeVisible();
  await a.send("Works on my phone");
  await expect(a.message("Works on my phone")).toBeVisible();
  await a.screenshot("narrow-chat");
  await alice.page.getByTestId("chat-back").click();
  await expect(a.conversation("Bob")).toBeVisible();
  await expect(alice.page).toHaveURL(/\/$/);

  // The theme follows the system setting.
  const background = () => alice.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await background();
  await alice.page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(background).not.toBe(light);
  await a.open("Bob");
  await a.screenshot("narrow-chat-dark");

  // The browser's back button (or gesture) returns to the list too.
  await alice.page.goBack();
  await expect(a.conversation("Bob")).toBeVisible();
  await alice.page.goForward();
  await expect(a.message("Works on my phone")).toBeVisible();
});

test("keyboard only: arrow keys move through the list, Enter opens, Escape closes the new chat dialog", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const carol = await personas("Carol");
  await openDmViaApi(bob.context, alice.id);
  await openDmViaApi(carol.context, alice.id);
  const a = new ChatApp(alice.page);
  await expect(alice.page.getByTestId("conversation-item")).toHaveCount(2);

  await alice.page.getByTestId("conversation-item").first().focus();
  const firstTitle = await alice.page.getByTestId("conversation-item").first().getAttribute("data-title");
  const secondTitle = await alice.page.getByTestId("conversation-item").nth(1).getAttribute("data-title");
  await alice.page.keyboard.press("ArrowDown");
  await expect(alice.page.getByTestId("conversation-item").nth(1)).toBeFocused();
  await alice.page.keyboard.press("Enter");
  await expect(alice.page.getByTestId("chat-title")).toHaveText(secondTitle!);
  await expect(a.composer).toBeFocused();
  await alice.page.keyboard.type("Hi from the keyboard");
  await alice.page.keyboard.press("Enter");
  await expect(a.message("Hi from the keyboard")).toBeVisible();

  // The conversation just written to moves to the top; arrows follow the new order.
  await expect(alice.page.getByTestId("conversation-item").first()).toHaveAttribute("data-title", secondTitle!);
  await alice.page.getByTestId("conversation-item").nth(1).focus();
  await alice.page.keyboard.press("ArrowUp");
  await expect(alice.page.getByTestId("conversation-item").first()).toBeFocused();
  expect(firstTitle).not.toBe(secondTitle);

  await alice.page.getByTestId("new-chat-button").focus();
  await alice.page.keyboard.press("Enter");
  await expect(alice.page.getByTestId("new-chat-dialog")).toBeVisible();
  await alice.page.keyboard.press("Escape");
  await expect(alice.page.getByTestId("new-chat-dialog")).toHaveCount(0);
  await expect(alice.page.getByTestId("new-chat-button")).toBeFocused();
});
