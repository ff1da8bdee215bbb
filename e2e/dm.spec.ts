import { expect, test } from "./fixtures";
import { ChatApp } from "./pages";

test("a DM round trip: alice's message goes sent, delivered, read as bob receives and reads it", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const b = new ChatApp(bob.page);

  // Bob has the app open on his list, so the message arrives unread.
  await a.startDm(bob);
  await expect(alice.page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  await a.send("Hi Bob, lunch at noon?");

  const sent = a.message("Hi Bob, lunch at noon?");
  await expect(sent.getByTestId("message-status")).toHaveAttribute("data-status", /sent|delivered/);

  // Bob's list shows the DM with an unread badge: delivered to his open app.
  await expect(b.unreadBadge("Alice")).toHaveText("1");
  await expect(sent.getByTestId("message-status")).toHaveAttribute("data-status", "delivered");
  await expect(b.conversation("Alice").getByTestId("conversation-preview")).toHaveText("Hi Bob, lunch at noon?");

  // Bob opens it: read, the badge clears, alice sees the read ticks.
  await b.open("Alice");
  await expect(b.message("Hi Bob, lunch at noon?")).toBeVisible();
  await expect(b.unreadBadge("Alice")).toHaveCount(0);
  await expect(sent.getByTestId("message-status")).toHaveAttribute("data-status", "read");

  // And back: Bob answers with Enter, Shift+Enter makes a new line.
  await b.composer.fill("Sure!");
  await b.composer.press("Shift+Enter");
  await b.composer.pressSequentially("See you there");
  await b.composer.press("Enter");
  await expect(a.message("Sure!\nSee you there")).toBeVisible();
  await expect(a.message("Sure!\nSee you there")).toHaveAttribute("data-own", "false");
  await expect(b.message("Sure!\nSee you there")).toHaveAttribute("data-own", "true");
  await a.screenshot("dm");
  await b.screenshot("dm-peer");

  // The conversation is linkable: a reload of /c/{id} opens it again with its history.
  await alice.page.reload();
  await expect(a.message("Hi Bob, lunch at noon?")).toBeVisible();
  await expect(alice.page.getByTestId("chat-title")).toHaveText("Bob");
});
