import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, test, waitForRealtime } from "./fixtures";
import { ChatApp, createGroupViaApi, openDmViaApi, sendViaApi, trpc } from "./pages";

/** Serious and critical axe violations on the page as it is now (menus open included). */
async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

/** Opens a message's actions menu from its "⋯" button; returns the menu. */
async function openActions(app: ChatApp, text: string) {
  const row = app.message(text);
  await row.hover();
  await row.getByTestId("message-actions").click();
  const menu = app.page.getByTestId("message-menu");
  await expect(menu).toBeVisible();
  await expect(menu.getByRole("menuitem").first()).toBeFocused();
  return menu;
}

test("two people edit, delete, react, reply, mark unread and mention each other, each seen live by the other", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const b = new ChatApp(bob.page);
  await createGroupViaApi(alice.context, "Launch", [bob.id]);
  await a.open("Launch");
  await b.open("Launch");

  // Alice writes; bob reacts from the message's actions menu; alice sees the chip live, with bob in it.
  await a.send("Ship it on Friday");
  await expect(b.message("Ship it on Friday")).toBeVisible();
  const bobsView = await openActions(b, "Ship it on Friday");
  await bobsView.getByRole("menuitem", { name: "React with 👍" }).click();
  const chip = a.message("Ship it on Friday").getByTestId("reaction-chip");
  await expect(chip).toHaveAttribute("data-count", "1");
  await expect(chip).toHaveAttribute("data-me", "false");
  await expect(b.message("Ship it on Friday").getByTestId("reaction-chip")).toHaveAttribute("data-me", "true");
  await chip.focus();
  await expect(chip).toHaveAttribute("title", "Bob");

  // Alice adds her own from the picker: the count is 2 for both, highlighted for alice.
  await openActions(a, "Ship it on Friday");
  await alice.page.getByTestId("more-reactions").click();
  await alice.page.getByTestId("emoji-picker").getByRole("searchbox").fill("thumbs up");
  await alice.page.getByTestId("emoji-picker").getByRole("gridcell", { name: "Thumbs up" }).click();
  await expect(chip).toHaveAttribute("data-count", "2");
  await expect(chip).toHaveAttribute("data-me", "true");
  await expect(b.message("Ship it on Friday").getByTestId("reaction-chip")).toHaveAttribute("data-count", "2");

  // Up arrow in the empty composer edits alice's last message; bob sees the new text marked edited.
  await a.composer.click();
  await a.composer.press("ArrowUp");
  await expect(alice.page.getByTestId("editing-banner")).toBeVisible();
  await expect(a.composer).toHaveValue("Ship it on Friday");
  await a.composer.fill("Ship it on Monday");
  await a.composer.press("Enter");
  await expect(b.message("Ship it on Monday").getByTestId("message-edited")).toHaveText("(edited)");
  // Esc cancels an edit without saving.
  await a.composer.press("ArrowUp");
  await a.composer.fill("never saved");
  await a.composer.press("Escape");
  await expect(alice.page.getByTestId("editing-banner")).toHaveCount(0);
  await expect(a.message("Ship it on Monday")).toBeVisible();

  // Bob replies; alice sees the quote and jumps to the original from it.
  const original = await openActions(b, "Ship it on Monday");
  await original.getByTestId("action-reply").click();
  await expect(bob.page.getByTestId("reply-banner")).toContainText("Replying to Alice");
  await b.send("Monday works for me");
  const quote = a.message("Monday works for me").getByTestId("reply-quote");
  await expect(quote).toContainText("Ship it on Monday");
  await quote.click();
  await expect(a.message("Ship it on Monday")).toHaveClass(/highlighted/);

  // Alice mentions bob, picked from the autocomplete; bob, on his list, finds it in his mentions.
  await bob.page.goto("/");
  await waitForRealtime(bob.page);
  await a.composer.fill("Thanks @bo");
  const option = alice.page.getByTestId("mention-option").filter({ hasText: "Bob" });
  await expect(option).toBeVisible();
  await a.composer.press("Enter");
  await expect(a.composer).toHaveValue(`Thanks @${bob.username} `);
  await a.composer.press("Enter");
  await expect(a.message(`Thanks @${bob.username}`).getByTestId("mention")).toHaveText(`@${bob.username}`);
  await expect(b.conversation("Launch").getByTestId("mention-marker")).toBeVisible();
  await bob.page.getByTestId("mentions-button").click();
  const mention = bob.page.getByTestId("mention-item").first();
  await expect(mention).toContainText(`Thanks @${bob.username}`);
  await mention.click();
  await expect(b.message(`Thanks @${bob.username}`)).toBeVisible();

  // Alice deletes her message after confirming; bob sees the tombstone live.
  await a.send("Oops, wrong chat");
  await expect(b.message("Oops, wrong chat")).toBeVisible();
  const oops = await openActions(a, "Oops, wrong chat");
  await oops.getByTestId("action-delete").click();
  await alice.page.getByTestId("confirm-delete-accept").click();
  const tomb = b.messages.filter({ hasText: "This message was deleted" });
  await expect(tomb).toHaveCount(1);
  await expect(b.message("Oops, wrong chat")).toHaveCount(0);

  // Bob marks alice's edited message unread: his list shows the badge again.
  const toMark = await openActions(b, "Ship it on Monday");
  await toMark.getByTestId("action-mark-unread").click();
  await expect(bob.page.getByTestId("chat-empty")).toBeVisible();
  // From alice's edited message on: bob's reply, alice's mention and the tombstone, which does not count.
  await expect(b.unreadBadge("Launch")).toHaveText("3");
});

test("bob offline while alice edits, deletes and reacts: back online he sees the final state without a reload", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const b = new ChatApp(bob.page);
  const dm = await openDmViaApi(alice.context, bob.id);
  const [first, second, third] = [
    await sendViaApi(alice.context, dm, "first draft"),
    await sendViaApi(alice.context, dm, "take this back"),
    await sendViaApi(alice.context, dm, "react to me"),
  ];
  await bob.page.reload();
  await waitForRealtime(bob.page);
  await b.open("Alice");
  await expect(b.message("react to me")).toBeVisible();

  await bob.context.setOffline(true);
  await expect(bob.page.getByTestId("connection-banner")).toBeVisible();
  await trpc(alice.context, "message.edit", { conversationId: dm, seq: first, body: "final wording" }, "mutation");
  await trpc(alice.context, "message.delete", { conversationId: dm, seq: second }, "mutation");
  await trpc(alice.context, "message.react", { conversationId: dm, seq: third, emoji: "🎉", on: true }, "mutation");
  await bob.context.setOffline(false);

  await waitForRealtime(bob.page);
  await expect(b.message("final wording").getByTestId("message-edited")).toBeVisible();
  await expect(b.message("take this back")).toHaveCount(0);
  await expect(b.messages.filter({ hasText: "This message was deleted" })).toHaveCount(1);
  await expect(b.message("react to me").getByTestId("reaction-chip")).toHaveAttribute("data-emoji", "🎉");
  expect(await b.bodies()).toEqual(["final wording", "This message was deleted", "react to me"]);
});

test("the actions menu and reactions, light and dark, with no serious accessibility violations", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const group = await createGroupViaApi(alice.context, "Design review", [bob.id]);
  const seq = await sendViaApi(bob.context, group, "The new icons are in the shared folder");
  await trpc(bob.context, "message.react", { conversationId: group, seq, emoji: "🎉", on: true }, "mutation");
  await trpc(alice.context, "message.react", { conversationId: group, seq, emoji: "👍", on: true }, "mutation");
  await sendViaApi(alice.context, group, `Looks great, thanks @${bob.username}`);

  for (const scheme of ["light", "dark"] as const) {
    await alice.page.emulateMedia({ colorScheme: scheme });
    await alice.page.goto("/");
    await waitForRealtime(alice.page);
    expect(await seriousViolations(alice.page), `list screen (${scheme})`).toEqual([]);

    await a.open("Design review");
    await expect(a.message("The new icons are in the shared folder").getByTestId("reaction-chip")).toHaveCount(2);
    await a.screenshot(`reactions-${scheme}`);
    await openActions(a, "The new icons are in the shared folder");
    await a.screenshot(`actions-menu-${scheme}`);
    expect(await seriousViolations(alice.page), `chat screen, actions menu open (${scheme})`).toEqual([]);

    await alice.page.getByTestId("more-reactions").click();
    await expect(alice.page.getByTestId("emoji-picker").getByRole("gridcell").first()).toBeVisible();
    expect(await seriousViolations(alice.page), `emoji picker open (${scheme})`).toEqual([]);
    await alice.page.keyboard.press("Escape");

    await a.composer.fill("@bo");
    await expect(alice.page.getByTestId("mention-option").first()).toBeVisible();
    expect(await seriousViolations(alice.page), `mention autocomplete open (${scheme})`).toEqual([]);
    await a.composer.fill("");

    await alice.page.getByTestId("mentions-button").click();
    await expect(alice.page.getByTestId("mentions-view")).toBeVisible();
    expect(await seriousViolations(alice.page), `mentions view (${scheme})`).toEqual([]);
    await alice.page.keyboard.press("Escape");
  }
});

test("every screen, light and dark, has no serious or critical accessibility violations", async ({
  browser,
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const a = new ChatApp(alice.page);
  const group = await createGroupViaApi(alice.context, "Accessibility", [bob.id]);
  await sendViaApi(bob.context, group, "Checking every screen");
  const visitor = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const signedOut = await visitor.newPage();

  for (const scheme of ["light", "dark"] as const) {
    await signedOut.emulateMedia({ colorScheme: scheme });
    await signedOut.goto("/sign-in");
    await expect(signedOut.getByRole("button", { name: /sign in/i })).toBeVisible();
    expect(await seriousViolations(signedOut), `sign-in (${scheme})`).toEqual([]);
    await signedOut.goto("/sign-up");
    await expect(signedOut.getByRole("button", { name: /create|sign up/i })).toBeVisible();
    expect(await seriousViolations(signedOut), `sign-up (${scheme})`).toEqual([]);

    await alice.page.emulateMedia({ colorScheme: scheme });
    await alice.page.goto("/");
    await waitForRealtime(alice.page);
    await alice.page.getByTestId("new-chat-button").click();
    await expect(alice.page.getByTestId("new-chat-search")).toBeVisible();
    expect(await seriousViolations(alice.page), `new chat dialog (${scheme})`).toEqual([]);
    await alice.page.keyboard.press("Escape");

    await a.open("Accessibility");
    await alice.page.getByTestId("group-info-button").click();
    await expect(alice.page.getByTestId("group-info")).toBeVisible();
    expect(await seriousViolations(alice.page), `group info (${scheme})`).toEqual([]);
    await alice.page.keyboard.press("Escape");

    // As the group's owner alice may delete bob's message: the confirm, then cancel.
    const menu = await openActions(a, "Checking every screen");
    await menu.getByTestId("action-delete").click();
    await expect(alice.page.getByTestId("confirm-delete")).toBeVisible();
    expect(await seriousViolations(alice.page), `delete confirm (${scheme})`).toEqual([]);
    await alice.page.keyboard.press("Escape");
    await expect(a.message("Checking every screen")).toBeVisible();
  }
  await visitor.close();
});
