import { expect, test } from "./fixtures";
import { ChatApp, createGroupViaApi, sendViaApi } from "./pages";

test("a long history loads as alice scrolls up, and new messages wait behind a pill while she reads", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const carol = await personas("Carol");
  const dave = await personas("Dave");
  const a = new ChatApp(alice.page);
  const group = await createGroupViaApi(bob.context, "Archive", [alice.id, carol.id, dave.id]);

  // 51 messages from three senders, more than one page (each stays under the per-user rate limit).
  for (let i = 0; i < 17; i++) {
    for (const [who, context] of [
      ["bob", bob.context],
      ["carol", carol.context],
      ["dave", dave.context],
    ] as const) {
      await sendViaApi(context, group, `${who} ${i}`);
    }
  }

  // Opening an unread conversation starts at the first unread message.
  await a.open("Archive");
  await expect(alice.page.getByTestId("unread-divider")).toBeInViewport();
  await expect(a.message("bob 0")).toBeInViewport();
  await expect(a.unreadBadge("Archive")).toBeVisible();
  // The list is virtualised: only about a screenful is in the DOM.
  expect(await a.messages.count()).toBeLessThan(51);
  await alice.page.getByTestId("new-messages-pill").click();
  await expect(a.message("dave 16")).toBeInViewport();
  await expect(a.unreadBadge("Archive")).toHaveCount(0);

  // Read, reopened: it opens at the bottom with the newest page only.
  await alice.page.reload();
  await expect(a.message("dave 16")).toBeInViewport();
  await expect(a.message("bob 0")).toHaveCount(0);

  // Scrolling to the top loads older pages until the group's first line.
  const list = alice.page.getByTestId("message-list");
  await expect
    .poll(async () => {
      await list.evaluate((el) => el.scrollTo({ top: 0 }));
      return alice.page.getByTestId("system-message").first().textContent();
    })
    .toContain("created the group");
  await expect(a.message("bob 0")).toBeVisible();
  const seqs = await a.seqs();
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));

  // Scrolled up, a new message does not yank the view: a pill says it is there.
  await sendViaApi(bob.context, group, "anyone still here?");
  await expect(alice.page.getByTestId("new-messages-pill")).toHaveText(/1 new message/);
  await expect(a.message("bob 0")).toBeVisible();
  await alice.page.getByTestId("new-messages-pill").click();
  await expect(a.message("anyone still here?")).toBeVisible();
  await expect(alice.page.getByTestId("new-messages-pill")).toHaveCount(0);

  // At the bottom, new messages simply appear in view.
  await sendViaApi(carol.context, group, "yes!");
  await expect(a.message("yes!")).toBeInViewport();
  await expect(alice.page.getByTestId("new-messages-pill")).toHaveCount(0);
});
