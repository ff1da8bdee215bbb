import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { ChatApp } from "./pages";

function memberRow(page: Page, userId: string) {
  return page.getByTestId("group-info").locator(`[data-testid="group-member"][data-user-id="${userId}"]`);
}

test("an owner builds a group, renames it, makes bob admin and removes carol, who sees that she is out", async ({
  personas,
}) => {
  const olivia = await personas("Olivia");
  const bob = await personas("Bob");
  const carol = await personas("Carol");
  const o = new ChatApp(olivia.page);
  const b = new ChatApp(bob.page);
  const c = new ChatApp(carol.page);

  // The group is made through the New chat dialog, with two chosen members.
  await o.createGroup("Falcon launch", [bob, carol]);
  await expect(olivia.page.getByTestId("new-chat-dialog")).toHaveCount(0);
  await expect(olivia.page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);

  await expect(b.conversation("Falcon launch")).toBeVisible();
  await c.open("Falcon launch");

  // A plain member sees the group but none of the management actions.
  await carol.page.getByTestId("group-info-button").click();
  const carolPanel = carol.page.getByTestId("group-info");
  await expect(carolPanel.getByTestId("group-member")).toHaveCount(3);
  await expect(carolPanel.getByTestId("group-edit")).toHaveCount(0);
  await expect(carolPanel.getByTestId("group-add-members")).toHaveCount(0);
  await expect(carolPanel.getByTestId("group-member-manage")).toHaveCount(0);
  await carol.page.keyboard.press("Escape");
  await expect(carolPanel).toHaveCount(0);

  // The owner renames the group; everyone else sees the new name live.
  await olivia.page.getByTestId("group-info-button").click();
  const panel = olivia.page.getByTestId("group-info");
  await expect(panel).toBeVisible();
  await expect(memberRow(olivia.page, olivia.id)).toHaveAttribute("data-role", "owner");
  await panel.getByTestId("group-edit").click();
  await panel.getByTestId("group-edit-name").fill("Falcon crew");
  await panel.getByTestId("group-edit-announcement").fill("Launch review on Friday at 10");
  await panel.getByTestId("group-edit-save").click();
  await expect(panel.getByTestId("group-info-name")).toHaveText("Falcon crew");
  await expect(panel.getByTestId("group-info-announcement")).toHaveText("Launch review on Friday at 10");
  await expect(b.conversation("Falcon crew")).toBeVisible();
  await expect(carol.page.getByTestId("chat-title")).toHaveText("Falcon crew");
  // The saved edit form took the focus with it; Escape still closes the panel.
  await olivia.page.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await olivia.page.getByTestId("group-info-button").click();
  await expect(panel).toBeVisible();

  // Bob becomes an admin.
  await memberRow(olivia.page, bob.id).getByTestId("group-member-manage").click();
  await memberRow(olivia.page, bob.id).getByTestId("group-member-make-admin").click();
  await expect(memberRow(olivia.page, bob.id)).toHaveAttribute("data-role", "admin");
  await expect(memberRow(olivia.page, bob.id).getByTestId("group-member-role")).toHaveText("Admin");
  await o.screenshot("group-info");

  // Carol is removed, after a confirmation.
  await memberRow(olivia.page, carol.id).getByTestId("group-member-manage").click();
  await memberRow(olivia.page, carol.id).getByTestId("group-member-remove").click();
  const confirm = olivia.page.getByTestId("remove-member-confirm");
  await expect(confirm).toContainText("Carol");
  await confirm.getByTestId("remove-member-confirm-accept").click();
  await expect(confirm).toHaveCount(0);
  await expect(memberRow(olivia.page, carol.id)).toHaveCount(0);
  await expect(panel.getByTestId("group-member")).toHaveCount(2);
  await expect(panel.getByTestId("group-info-member-count")).toContainText("2 members");

  // Carol, who had the group open, is told she is out and the group leaves her list.
  await expect(carol.page.getByTestId("chat-missing")).toBeVisible();
  await expect(c.conversation("Falcon crew")).toHaveCount(0);

  // Bob, now an admin, sees his badge and can manage plain members but not hand out admin.
  await b.open("Falcon crew");
  await bob.page.getByTestId("group-info-button").click();
  const bobPanel = bob.page.getByTestId("group-info");
  await expect(memberRow(bob.page, bob.id)).toHaveAttribute("data-role", "admin");
  await expect(bobPanel.getByTestId("group-edit")).toBeVisible();
  await expect(bobPanel.getByTestId("group-add-members")).toBeVisible();
  await expect(memberRow(bob.page, olivia.id).getByTestId("group-member-manage")).toHaveCount(0);
});

test("the New chat dialog works from the keyboard: search, arrows and Enter open a DM; Escape closes and restores focus", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const page = alice.page;
  const newChat = page.getByTestId("new-chat-button");

  await newChat.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByTestId("new-chat-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAttribute("role", "dialog");
  await expect(dialog).toHaveAttribute("aria-modal", "true");
  await expect(dialog.getByTestId("new-chat-search")).toBeFocused();

  // Focus stays inside the dialog however far one tabs.
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    await expect(dialog.locator(":focus")).toHaveCount(1);
  }
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(newChat).toBeFocused();

  // A group needs a name: the dialog says so instead of sending a bad request.
  await page.keyboard.press("Enter");
  await dialog.getByTestId("new-chat-mode-group").click();
  await dialog.getByTestId("new-group-create").click();
  await expect(dialog.getByTestId("new-group-name-error")).toHaveText("Give the group a name");
  await dialog.getByTestId("new-chat-mode-direct").click();

  // Type, move down to bob with the arrows, Enter opens the DM.
  const search = dialog.getByTestId("new-chat-search");
  await search.focus();
  await page.keyboard.type(bob.username);
  const result = dialog.locator(`[data-testid="new-chat-result"][data-username="${bob.username}"]`);
  await expect(result).toBeVisible();
  await expect(result).toHaveAttribute("aria-selected", "true");
  await page.screenshot({ path: "e2e/screenshots/new-chat.png" });
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowUp");
  await expect(result).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("Enter");

  await expect(dialog).toHaveCount(0);
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("chat-title")).toHaveText("Bob");
});

test("an owner adds a member from the panel; members leave after confirming, and the owner's leaving hands the group on", async ({
  personas,
}) => {
  const olivia = await personas("Olivia");
  const bob = await personas("Bob");
  const dave = await personas("Dave");
  const o = new ChatApp(olivia.page);
  const b = new ChatApp(bob.page);
  const d = new ChatApp(dave.page);

  await o.createGroup("Book club", [bob]);
  await olivia.page.getByTestId("group-info-button").click();
  const panel = olivia.page.getByTestId("group-info");
  await panel.getByTestId("group-add-members").click();
  const addForm = panel.getByTestId("group-add-form");

  // Someone already in the group is shown but cannot be picked again.
  await addForm.getByTestId("group-add-search").fill(bob.username);
  const bobResult = addForm.locator(`[data-testid="group-add-result"][data-username="${bob.username}"]`);
  await expect(bobResult).toHaveAttribute("aria-disabled", "true");
  await expect(bobResult).toContainText("Already in the group");

  await addForm.getByTestId("group-add-search").fill(dave.username);
  await addForm.locator(`[data-testid="group-add-result"][data-username="${dave.username}"]`).click();
  await expect(addForm.getByTestId("group-add-chip")).toHaveCount(1);
  await expect(addForm.getByTestId("group-add-chip")).toContainText("Dave");
  await addForm.getByTestId("group-add-submit").click();
  await expect(addForm).toHaveCount(0);
  await expect(memberRow(olivia.page, dave.id)).toHaveAttribute("data-role", "member");
  await expect(panel.getByTestId("group-info-member-count")).toContainText("3 members");
  await expect(d.conversation("Book club")).toBeVisible();

  // Bob leaves: asked first, then back to his list without the group; olivia's panel follows live.
  await b.open("Book club");
  await bob.page.getByTestId("group-info-button").click();
  await bob.page.getByTestId("group-leave").click();
  const bobConfirm = bob.page.getByTestId("leave-confirm");
  await expect(bobConfirm).toContainText("Leave this group?");
  await bobConfirm.getByTestId("leave-confirm-accept").click();
  await expect(bob.page.getByTestId("group-info")).toHaveCount(0);
  await expect(b.conversation("Book club")).toHaveCount(0);
  await expect(bob.page).not.toHaveURL(/\/c\//);
  await expect(memberRow(olivia.page, bob.id)).toHaveCount(0);
  await expect(panel.getByTestId("group-info-member-count")).toContainText("2 members");

  // The owner leaves: warned that ownership passes on; dave becomes the owner.
  await panel.getByTestId("group-leave").click();
  const ownerConfirm = olivia.page.getByTestId("leave-confirm");
  await expect(ownerConfirm).toContainText("Ownership passes");
  await ownerConfirm.getByTestId("leave-confirm-accept").click();
  await expect(o.conversation("Book club")).toHaveCount(0);

  await d.open("Book club");
  await dave.page.getByTestId("group-info-button").click();
  await expect(memberRow(dave.page, dave.id)).toHaveAttribute("data-role", "owner");
  await expect(dave.page.getByTestId("group-info").getByTestId("group-edit")).toBeVisible();
});
