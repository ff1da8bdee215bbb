import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { readHistory } from "../messaging/history";
import { sendMessage } from "../messaging/send";
import { seedGroup, testSendDeps } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";
import { isPublicAddress } from "./address";
import { fetchPreviewPage, type Resolver } from "./fetch";
import { firstLink, parsePreview } from "./parse";
import { processPendingPreviews } from "./worker";

type Page = (req: IncomingMessage, res: ServerResponse) => void;

/** A real local web server whose pages the test defines; counts what it was asked. */
async function startSite(pages: Record<string, Page>) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? "");
    const page = pages[req.url ?? ""];
    if (page) page(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    hits,
    port,
    host: `127.0.0.1:${port}`,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const html = (head: string) => (_req: IncomingMessage, res: ServerResponse) =>
  res
    .writeHead(200, { "content-type": "text/html; charset=utf-8" })
    .end(`<!doctype html><html><head>${head}</head><body>hi</body></html>`);

const articleHead =
  '<title>Fallback</title><meta property="og:title" content="Ship it &amp; rest"><meta property="og:description" content="How we deploy on Fridays"><meta property="og:site_name" content="Chorus Blog"><meta property="og:image" content="/cover.png">';

describe("which addresses a preview may reach", () => {
  it("allows public unicast and refuses loopback, private, link-local, metadata, multicast and their IPv6 forms", () => {
    for (const ok of ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"]) expect(isPublicAddress(ok), ok).toBe(true);
    for (const bad of [
      "127.0.0.1",
      "127.8.9.10",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "192.0.2.1",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "fd00:ec2::254",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:169.254.169.254",
      "64:ff9b::7f00:1",
      "2002:7f00:1::",
      "2001:0:4136:e378:8000:63bf:3fff:fdd2",
      "not an address",
    ]) {
      expect(isPublicAddress(bad), bad).toBe(false);
    }
  });
});

describe("the preview fetcher against a real local server", () => {
  let site: Awaited<ReturnType<typeof startSite>>;
  let other: Awaited<ReturnType<typeof startSite>>;
  const written = { bytes: 0, closedEarly: false };

  beforeAll(async () => {
    other = await startSite({ "/secret": html("<title>internal admin</title>") });
    site = await startSite({
      "/article": html(articleHead),
      "/to-internal": (_req, res) => res.writeHead(302, { location: other.url("/secret") }).end(),
      "/to-metadata": (_req, res) => res.writeHead(301, { location: "http://169.254.169.254/latest/meta-data/" }).end(),
      "/loop": (_req, res) => res.writeHead(302, { location: "/loop" }).end(),
      "/json": (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"title":"x"}'),
      "/svg": (_req, res) => res.writeHead(200, { "content-type": "image/svg+xml" }).end("<svg/>"),
      "/slow": () => {
        // Never answers.
      },
      "/huge": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.write(`<html><head>${articleHead}</head><body>`);
        const chunk = "x".repeat(64 * 1024);
        const pump = () => {
          while (written.bytes < 8 * 1024 * 1024) {
            written.bytes += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        res.on("close", () => {
          written.closedEarly = written.bytes < 8 * 1024 * 1024;
        });
        pump();
      },
    });
  });
  afterAll(async () => {
    await site.close();
    await other.close();
  });

  const allowed = () => ({ allowHosts: [site.host] });

  it("fetches an allowed local page and reads its Open Graph tags", async () => {
    const page = await fetchPreviewPage(site.url("/article"), allowed());
    expect(parsePreview(page.html, page.url)).toEqual({
      url: site.url("/article"),
      title: "Ship it & rest",
      description: "How we deploy on Fridays",
      siteName: "Chorus Blog",
      imageUrl: site.url("/cover.png"),
    });
  });

  it("refuses the same page when its host is not on the test allow list (loopback)", async () => {
    const before = site.hits.length;
    await expect(fetchPreviewPage(site.url("/article"))).rejects.toMatchObject({ reason: "address not public" });
    await expect(fetchPreviewPage(`http://localhost:${site.port}/article`)).rejects.toMatchObject({
      reason: "address not public",
    });
    await expect(fetchPreviewPage(`http://[::1]:${site.port}/article`)).rejects.toMatchObject({
      reason: "address not public",
    });
    expect(site.hits.length).toBe(before);
  });

  it("refuses private, link-local, metadata and multicast addresses before connecting", async () => {
    for (const url of [
      "http://10.0.0.1/",
      "http://192.168.0.1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://[fd00:ec2::254]/",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://224.0.0.1/",
      "http://0.0.0.0/",
    ]) {
      await expect(fetchPreviewPage(url), url).rejects.toMatchObject({ reason: "address not public" });
    }
  });

  it("checks every address a name resolves to, and resolves it only once", async () => {
    const mixed: Resolver = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ];
    await expect(
      fetchPreviewPage(`http://two-faced.test:${site.port}/article`, { resolve: mixed }),
    ).rejects.toMatchObject({
      reason: "address not public",
    });
    let lookups = 0;
    const counting: Resolver = async () => {
      lookups++;
      return [{ address: "127.0.0.1", family: 4 }];
    };
    const page = await fetchPreviewPage(`http://chorus-preview.test:${site.port}/article`, {
      resolve: counting,
      allowHosts: [`chorus-preview.test:${site.port}`],
    });
    expect(page.html).toContain("Ship it");
    // The connection used the checked answer: no second lookup a rebinding DNS server could change.
    expect(lookups).toBe(1);
  });

  it("re-checks every redirect: an allowed page cannot bounce the fetch inside the network", async () => {
    const before = other.hits.length;
    await expect(fetchPreviewPage(site.url("/to-internal"), allowed())).rejects.toMatchObject({
      reason: "address not public",
    });
    await expect(fetchPreviewPage(site.url("/to-metadata"), allowed())).rejects.toMatchObject({
      reason: "address not public",
    });
    expect(other.hits.length).toBe(before);
    await expect(fetchPreviewPage(site.url("/loop"), allowed())).rejects.toMatchObject({
      reason: "too many redirects",
    });
  });

  it("takes HTML only", async () => {
    await expect(fetchPreviewPage(site.url("/json"), allowed())).rejects.toMatchObject({
      reason: "not HTML (application/json)",
    });
    await expect(fetchPreviewPage(site.url("/svg"), allowed())).rejects.toMatchObject({
      reason: "not HTML (image/svg+xml)",
    });
    await expect(fetchPreviewPage(site.url("/missing"), allowed())).rejects.toMatchObject({ reason: "status 404" });
  });

  it("gives up on a page that does not answer in time", async () => {
    const started = Date.now();
    await expect(fetchPreviewPage(site.url("/slow"), { ...allowed(), timeoutMs: 300 })).rejects.toMatchObject({
      reason: "timed out",
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("reads at most 1 MB of a huge page, which still yields its preview", async () => {
    const page = await fetchPreviewPage(site.url("/huge"), allowed());
    expect(Buffer.byteLength(page.html)).toBeLessThanOrEqual(1024 * 1024);
    expect(parsePreview(page.html, page.url).title).toBe("Ship it & rest");
    await expect.poll(() => written.closedEarly).toBe(true);
  });

  it("refuses links that are not plain http(s)", async () => {
    await expect(fetchPreviewPage(`http://user:pw@${site.host}/article`, allowed())).rejects.toMatchObject({
      reason: "credentials in the link",
    });
    await expect(fetchPreviewPage("ftp://example.com/")).rejects.toMatchObject({ reason: "not http(s)" });
  });
});

describe("links in a body", () => {
  it("finds the first http(s) link without trailing punctuation", () => {
    expect(firstLink("see https://example.com/a?b=1, then http://x.org")).toBe("https://example.com/a?b=1");
    expect(firstLink("(https://en.wikipedia.org/wiki/Foo_(bar)).")).toBe("https://en.wikipedia.org/wiki/Foo_(bar)");
    expect(firstLink("javascript:alert(1) and ftp://x")).toBeNull();
    expect(firstLink("https://user:pw@example.com/")).toBeNull();
  });

  it("keeps hostile page text as plain text", () => {
    const parsed = parsePreview(
      '<title><img src=x onerror=alert(1)>&lt;b&gt;\u0007</title><meta property="og:image" content="javascript:alert(1)">',
      "https://e.com/",
    );
    expect(parsed.title).toBe("<img src=x onerror=alert(1)><b>");
    expect(parsed.imageUrl).toBeNull();
  });
});

describe.each(testDrivers)("link previews on messages (%s)", (driver) => {
  let handle: TestDb;
  let site: Awaited<ReturnType<typeof startSite>>;
  const publisher = recordingPublisher();
  let alice: Persona;
  let bob: Persona;
  let outsider: Persona;
  let group: string;
  const deps = { ...testSendDeps(publisher), linkPreviews: true };

  beforeAll(async () => {
    handle = await createTestDb(driver);
    site = await startSite({ "/article": html(articleHead), "/plain": html("") });
    [alice, bob, outsider] = await createPersonas(handle.db, "alice", "bob", "outsider");
    group = await seedGroup(handle.db, alice, [bob]);
  });
  afterAll(async () => {
    await site.close();
    await handle.close();
  });

  const send = (body: string, extra: Partial<typeof deps> = {}) =>
    sendMessage(
      handle.db,
      alice.id,
      { conversationId: group, clientMsgId: crypto.randomUUID(), body },
      { ...deps, ...extra },
    );
  const work = () => processPendingPreviews(handle.db, { publisher, fetch: { allowHosts: [site.host] } });
  const updates = () => publisher.published.filter((p) => p.event === "message.updated");
  const stateOf = async (seq: number) =>
    (
      await queryRows<{ s: string | null }>(
        handle.db,
        sql`select link_state as s from messages where conversation_id = ${group}::uuid and seq = ${seq}`,
      )
    )[0].s;

  it("fetches the first link after the send and delivers the preview as message.updated, cached per URL", async () => {
    const sent = await send(`read this ${site.url("/article")} and https://example.org`);
    expect(await stateOf(sent.seq)).toBe("pending");
    await work();
    const update = updates().find((u) => (u.payload as { seq: number }).seq === sent.seq);
    expect(update?.payload).toMatchObject({
      conversationId: group,
      linkPreview: { url: site.url("/article"), title: "Ship it & rest", siteName: "Chorus Blog" },
    });
    const page = await readHistory(handle.db, bob.id, { conversationId: group, limit: 1 });
    expect(page.messages[0].linkPreview).toMatchObject({ title: "Ship it & rest" });

    const hits = site.hits.length;
    const again = await send(`again ${site.url("/article")}`);
    await work();
    expect(site.hits.length).toBe(hits);
    expect(await stateOf(again.seq)).toBe("ready");
  });

  it("marks a refused or empty page failed and announces nothing", async () => {
    const before = updates().length;
    const internal = await send("http://169.254.169.254/latest/meta-data/");
    const plain = await send(site.url("/plain"));
    await work();
    expect(await stateOf(internal.seq)).toBe("failed");
    expect(await stateOf(plain.seq)).toBe("failed");
    expect(updates().length).toBe(before);
  });

  it("queues nothing when previews are off", async () => {
    const sent = await send(site.url("/article"), { linkPreviews: false });
    expect(await stateOf(sent.seq)).toBeNull();
  });

  it("lets only the sender remove a preview, which stays removed", async () => {
    const sent = await send(site.url("/article"));
    await expect(
      callerFor(handle.db, bob, publisher).message.removePreview({ conversationId: group, seq: sent.seq }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(
      callerFor(handle.db, outsider, publisher).message.removePreview({ conversationId: group, seq: sent.seq }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      callerFor(handle.db, alice, publisher).message.removePreview({ conversationId: group, seq: 9999 }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const answer = await callerFor(handle.db, alice, publisher).message.removePreview({
      conversationId: group,
      seq: sent.seq,
    });
    expect(answer).toEqual({ removed: true });
    expect(updates().at(-1)?.payload).toMatchObject({ seq: sent.seq, linkPreview: null });
    await work();
    expect(await stateOf(sent.seq)).toBe("removed");
    const page = await readHistory(handle.db, bob.id, { conversationId: group, limit: 1 });
    expect(page.messages[0].linkPreview).toBeNull();
  });
});
