import { createServer, type Server } from "node:http";
import type { Page } from "@playwright/test";
import sharp from "sharp";
import { expect, test } from "./fixtures";
import { ChatApp, openDmViaApi, sendViaApi, trpc } from "./pages";

/** Hands files to the page as a paste into the composer, as a browser does with a copied screenshot. */
async function pasteFiles(page: Page, files: { name: string; type: string; base64: string }[]) {
  await page.getByTestId("composer-input").evaluate((el, list) => {
    const data = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], f.name, { type: f.type }));
    }
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, files);
}

/** Drops files on the composer, as dragging them from the desktop does. */
async function dropFiles(page: Page, files: { name: string; type: string; base64: string }[]) {
  await page.getByTestId("composer").evaluate((el, list) => {
    const data = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], f.name, { type: f.type }));
    }
    for (const type of ["dragenter", "dragover", "drop"]) {
      el.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    }
  }, files);
}

const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").toString("base64");

test("alice pastes a screenshot and drops a PDF with progress; bob sees the image, opens it, and gets the file", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const dm = await openDmViaApi(alice.context, bob.id);
  await alice.page.goto(`/c/${dm}`);
  await bob.page.goto(`/c/${dm}`);
  const a = new ChatApp(alice.page);
  const b = new ChatApp(bob.page);

  // Noise compresses badly: a PNG of a few MB, which a throttled link uploads slowly enough to watch.
  const noise = Buffer.alloc(900 * 900 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
  const screenshot = await sharp(noise, { raw: { width: 900, height: 900, channels: 3 } })
    .png()
    .toBuffer();
  const cdp = await alice.context.newCDPSession(alice.page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 400 * 1024,
  });

  // The answer to an upload waits in the browser (after its body went out) until the in-progress
  // state is checked: the throttled link alone sent the body in one go at times, and the answer
  // right after it beat the checks.
  await cdp.send("Fetch.enable", { patterns: [{ urlPattern: "*/api/files", requestStage: "Response" }] });
  const answered = new Promise<string>((resolve) => {
    cdp.on("Fetch.requestPaused", (event) => resolve(event.requestId));
  });

  await a.composer.fill("Here is the screen and the report");
  await pasteFiles(alice.page, [{ name: "screenshot.png", type: "image/png", base64: screenshot.toString("base64") }]);
  const upload = alice.page.getByTestId("upload").filter({ hasText: "screenshot.png" });
  const screenshotAnswer = await answered;
  await expect(upload).toHaveAttribute("data-status", "uploading");
  await expect
    .poll(() => upload.getByTestId("upload-progress").evaluate((el: HTMLProgressElement) => el.value))
    .toBeGreaterThan(0);
  // Sending waits for uploads in flight, text or not.
  await expect(alice.page.getByTestId("send-button")).toBeDisabled();

  // A second paste is cancelled while it uploads (its answer held too): it disappears and is never sent.
  await pasteFiles(alice.page, [{ name: "oops.png", type: "image/png", base64: screenshot.toString("base64") }]);
  await alice.page.getByTestId("upload").filter({ hasText: "oops.png" }).getByTestId("upload-cancel").click();
  await expect(alice.page.getByTestId("upload").filter({ hasText: "oops.png" })).toHaveCount(0);

  await cdp.send("Fetch.continueResponse", { requestId: screenshotAnswer });
  await cdp.send("Fetch.disable");
  await expect(upload).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  await expect(alice.page.getByTestId("send-button")).toBeEnabled();
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  await dropFiles(alice.page, [{ name: "report.pdf", type: "application/pdf", base64: pdf }]);
  await expect(alice.page.getByTestId("upload").filter({ hasText: "report.pdf" })).toHaveAttribute(
    "data-status",
    "done",
  );

  await a.composer.fill("Here is the screen and the report");
  await a.composer.press("Enter");
  await expect(alice.page.getByTestId("composer-uploads")).toHaveCount(0);

  // Bob sees the thumbnail (loaded from the server, so he is allowed to) and the file card.
  const message = b.message("Here is the screen and the report");
  const image = message.getByTestId("attachment-image").locator("img");
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await message.getByTestId("attachment-image").click();
  const lightbox = bob.page.getByTestId("lightbox");
  await expect(lightbox).toBeVisible();
  await expect.poll(() => lightbox.locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(900);
  await bob.page.getByTestId("lightbox-close").click();
  await expect(lightbox).toHaveCount(0);

  const card = message.getByTestId("attachment-file");
  await expect(card).toContainText("report.pdf");
  const download = await bob.context.request.get((await card.getAttribute("href")) ?? "");
  expect(download.status()).toBe(200);
  expect(download.headers()["content-disposition"]).toMatch(/^attachment;/);
  expect((await download.body()).toString("base64")).toBe(pdf);
  expect(await a.message("Here is the screen and the report").getByTestId("attachment-image").count()).toBe(1);
});

test("a file over the upload limit is refused with a clear error and nothing is sent", async ({ personas }) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const dm = await openDmViaApi(alice.context, bob.id);
  await alice.page.goto(`/c/${dm}`);
  const big = Buffer.alloc(6 * 1024 * 1024, 1).toString("base64");
  await pasteFiles(alice.page, [{ name: "huge.bin", type: "application/octet-stream", base64: big }]);
  const upload = alice.page.getByTestId("upload").filter({ hasText: "huge.bin" });
  await expect(upload).toHaveAttribute("data-status", "failed");
  await expect(upload.getByTestId("upload-error")).toHaveText(/larger than the limit of 5 MB|too large/);
  await expect(alice.page.getByTestId("send-button")).toBeDisabled();
  await upload.getByTestId("upload-remove").click();
  await expect(alice.page.getByTestId("composer-uploads")).toHaveCount(0);
});

test.describe("link previews", () => {
  let site: Server;
  test.beforeAll(async () => {
    const port = Number(process.env.E2E_PORT ?? 3210) + 1;
    site = createServer((req, res) => {
      if (req.url !== "/article") return void res.writeHead(404).end();
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(
          '<html><head><title>x</title><meta property="og:title" content="Release notes &amp; more"><meta property="og:description" content="Everything that shipped this week"><meta property="og:site_name" content="Chorus Blog"></head><body></body></html>',
        );
    });
    await new Promise<void>((resolve) => site.listen(port, "127.0.0.1", resolve));
  });
  test.afterAll(async () => {
    await new Promise((resolve) => site.close(resolve));
  });

  test("alice's link gets a preview bob sees arrive, and alice can remove it", async ({ personas }) => {
    const alice = await personas("Alice");
    const bob = await personas("Bob");
    const dm = await openDmViaApi(alice.context, bob.id);
    await alice.page.goto(`/c/${dm}`);
    await bob.page.goto(`/c/${dm}`);
    const a = new ChatApp(alice.page);
    const b = new ChatApp(bob.page);
    const port = Number(process.env.E2E_PORT ?? 3210) + 1;
    const body = `notes at http://127.0.0.1:${port}/article`;
    await a.send(body);
    const preview = b.message(body).getByTestId("link-preview");
    await expect(preview.getByTestId("link-preview-title")).toHaveText("Release notes & more");
    await expect(preview).toContainText("Chorus Blog");
    await expect(a.message(body).getByTestId("link-preview")).toBeVisible();
    // Bob cannot remove alice's preview: he has no button for it.
    await expect(preview.getByTestId("link-preview-remove")).toHaveCount(0);
    await a.message(body).getByTestId("link-preview-remove").click();
    await expect(preview).toHaveCount(0);
    await expect(a.message(body).getByTestId("link-preview")).toHaveCount(0);
  });
});

test("bob searches with Ctrl+K, sees the hit highlighted under its conversation, and jumps to it in the history", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const dm = await openDmViaApi(alice.context, bob.id);
  await sendViaApi(alice.context, dm, "The quarterly zebra report is in the shared folder");
  // Enough later messages (60, both sending, within the send rate limit) that the hit is above bob's first page.
  for (let i = 0; i < 19; i++) await sendViaApi(alice.context, dm, `filler message ${i}`);
  for (let i = 19; i < 39; i++) await sendViaApi(bob.context, dm, `filler message ${i}`);
  for (let i = 39; i < 59; i++) {
    // Alice's rate window (20 sends per 10 s) reopens after a few seconds: sends are refused until then.
    await expect(async () => {
      await sendViaApi(alice.context, dm, `filler message ${i}`);
    }).toPass({ timeout: 20_000, intervals: [1000] });
  }
  // Bob has read everything, so his first page is the newest 50 messages, without the hit.
  await trpc(bob.context, "message.markRead", { conversationId: dm, seq: 60 }, "mutation");
  const b = new ChatApp(bob.page);

  await bob.page.keyboard.press("Control+k");
  const search = bob.page.getByTestId("message-search");
  await expect(search).toBeVisible();
  await bob.page.getByTestId("search-input").fill("zebra");
  const group = search.getByTestId("search-group");
  await expect(group).toHaveCount(1);
  await expect(group.locator("h3")).toHaveText("Alice");
  await expect(group.getByTestId("search-hit").locator("mark")).toHaveText("zebra");

  await group.getByTestId("search-hit").click();
  await expect(search).toHaveCount(0);
  await expect(bob.page.getByTestId("chat-title")).toHaveText("Alice");
  const hit = b.message("The quarterly zebra report is in the shared folder");
  await expect(hit).toHaveClass(/highlighted/);
  await expect(hit).toBeInViewport();
  // The history around it is there too.
  await expect(b.message("filler message 0")).toBeVisible();
});
