import type { Page } from "@playwright/test";
import { expect, test, waitForRealtime } from "./fixtures";
import { ChatApp, createGroupViaApi, openDmViaApi, sendViaApi, trpc } from "./pages";

/** Counts the page's socket sign-ins (Soketi's pusher:signin_success), on every socket it opens. */
function watchSignIns(page: Page) {
  const seen = { count: 0 };
  page.on("websocket", (socket) =>
    socket.on("framereceived", (frame) => {
      if (String(frame.payload).includes('"pusher:signin_success"')) seen.count++;
    }),
  );
  return seen;
}

test("a removed member's browser loses the group at once, signs in again and keeps its other chats live", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const group = await createGroupViaApi(alice.context, "Planning", [bob.id]);
  const b = new ChatApp(bob.page);
  const signIns = watchSignIns(bob.page);
  await bob.page.reload();
  await waitForRealtime(bob.page);
  await expect.poll(() => signIns.count).toBe(1);
  await expect(b.conversation("Planning")).toBeVisible();

  await trpc(alice.context, "group.removeMember", { conversationId: group, userId: bob.id }, "mutation");
  await expect(b.conversation("Planning")).toHaveCount(0);
  // Soketi closed bob's socket; his page reconnected and signed in again by itself.
  await expect.poll(() => signIns.count).toBe(2);
  await waitForRealtime(bob.page);

  const dm = await openDmViaApi(alice.context, bob.id);
  await sendViaApi(alice.context, dm, "still there?");
  await expect(b.conversation("Alice").getByTestId("conversation-preview")).toContainText("still there?");
});
