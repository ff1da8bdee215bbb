import { expect, test } from "./fixtures";
import { ChatApp, createGroupViaApi, openDmViaApi, sendViaApi } from "./pages";

test("unread badges rise with each message, add up in the title, and clear when read", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const carol = await personas("Carol");
  const a = new ChatApp(alice.page);

  const dm = await openDmViaApi(bob.context, alice.id);
  const group = await createGroupViaApi(carol.context, "Climbing", [alice.id, bob.id]);
  await expect(a.conversation("Bob")).toBeVisible();
  await expect(a.conversation("Climbing")).toBeVisible();

  await sendViaApi(bob.context, dm, "are you around?");
  await expect(a.unreadBadge("Bob")).toHaveText("1");
  await sendViaApi(bob.context, dm, "ping");
  await sendViaApi(bob.context, dm, "ping again");
  await expect(a.unreadBadge("Bob")).toHaveText("3");
  // The group's "created" line counts too.
  await expect(a.unreadBadge("Climbing")).toHaveText("1");
  await sendViaApi(carol.context, group, `Saturday at the gym, @${alice.username}?`);
  await expect(a.unreadBadge("Climbing")).toHaveText("2");
  await expect(a.conversation("Climbing").getByTestId("mention-marker")).toBeVisible();
  await expect(alice.page).toHaveTitle("(5) Chorus");

  // The list is ordered by the latest message.
  await expect(alice.page.getByTestId("conversation-item").first()).toHaveAttribute("data-title", "Climbing");
  await sendViaApi(bob.context, dm, "last one");
  await expect(alice.page.getByTestId("conversation-item").first()).toHaveAttribute("data-title", "Bob");
  await expect(a.unreadBadge("Bob")).toHaveText("4");
  await a.screenshot("conversation-list");

  // Opening the DM shows an "unread" divider above the first unread message and clears its badge.
  await a.open("Bob");
  await expect(alice.page.getByTestId("unread-divider")).toBeVisible();
  await expect(a.unreadBadge("Bob")).toHaveCount(0);
  await expect(alice.page).toHaveTitle("(2) Chorus");

  // Muting leaves the badge but takes it out of the total.
  await a.open("Climbing");
  await expect(alice.page).toHaveTitle("Chorus");
  await sendViaApi(bob.context, dm, "still there?");
  await expect(a.unreadBadge("Bob")).toHaveText("1");
  await alice.page.getByTestId("mute-toggle").click();
  await expect(a.conversation("Climbing").getByTestId("muted-icon")).toBeVisible();
  await a.open("Bob");
  await sendViaApi(carol.context, group, "see you there");
  await expect(a.unreadBadge("Climbing")).toHaveText("1");
  await expect(alice.page).toHaveTitle("Chorus");

  // The read state follows the user to their other tab.
  const second = await alice.context.newPage();
  await second.goto("/");
  const a2 = new ChatApp(second);
  await expect(a2.unreadBadge("Climbing")).toHaveText("1");
  await a.open("Climbing");
  await expect(a2.unreadBadge("Climbing")).toHaveCount(0);
});
