import { expect, test } from "./fixtures";
import { ChatApp } from "./pages";

test("a group: alice's message is read by 2, and a rename reaches bob live with a system message", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const carol = await personas("Carol");
  const a = new ChatApp(alice.page);
  const b = new ChatApp(bob.page);
  const c = new ChatApp(carol.page);

  await a.createGroup("Book club", [bob, carol]);
  await expect(alice.page.getByTestId("chat-subtitle")).toContainText("3 members");
  await expect(alice.page.getByTestId("online-count")).toContainText("3 online");

  await a.send("Next book: Dune");
  const mine = a.message("Next book: Dune");
  await expect(mine.getByTestId("message-status")).toHaveAttribute("data-status", /sent|delivered/);
  // Unread: the "created the group" line and the message.
  await expect(b.unreadBadge("Book club")).toHaveText("2");
  await expect(c.unreadBadge("Book club")).toHaveText("2");

  // In a group the sender's name and avatar are shown to others.
  await b.open("Book club");
  await expect(b.message("Next book: Dune").getByTestId("message-sender")).toHaveText("Alice");
  await expect(mine.getByTestId("read-by")).toHaveText("Read by 1");
  await c.open("Book club");
  await expect(mine.getByTestId("read-by")).toHaveText("Read by 2");
  await expect(mine.getByTestId("message-status")).toHaveAttribute("data-status", "read");

  // Bob answers; carol sees it live at the bottom.
  await b.send("Loved it, count me in");
  await expect(c.message("Loved it, count me in").getByTestId("message-sender")).toHaveText("Bob");

  // Alice renames the group in its info panel; bob's header and list follow, with a system line in the stream.
  await alice.page.getByTestId("group-info-button").click();
  const panel = alice.page.getByTestId("group-info");
  await panel.getByTestId("group-edit").click();
  await panel.getByTestId("group-edit-name").fill("Sci-fi club");
  await panel.getByTestId("group-edit-save").click();
  await expect(panel.getByTestId("group-info-name")).toHaveText("Sci-fi club");
  await alice.page.getByTestId("group-info-close").click();
  await expect(panel).toHaveCount(0);

  await expect(bob.page.getByTestId("chat-title")).toHaveText("Sci-fi club");
  await expect(b.conversation("Sci-fi club")).toBeVisible();
  await expect(bob.page.getByTestId("system-message").last()).toContainText("Sci-fi club");
  await a.screenshot("group");
});
