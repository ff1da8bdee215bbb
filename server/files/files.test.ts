import type { Server } from "node:http";
import { readdir } from "node:fs/promises";
import { sql } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { createChorusServer } from "../node-http/server";
import { seedCrowd, seedGroup, testSendDeps } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";
import { startTestStorage, type TestStorage, testStorages } from "../testing/storage";
import { apiSecurityHeaders } from "../security/headers";
import { readHistory } from "../messaging/history";
import { sendMessage } from "../messaging/send";
import { sweepUnusedUploads } from "./sweep";

const AUTH_SECRET = "files-test-secret-0123456789abcdef0123";
const MAX_BYTES = 256 * 1024;

const cases = testDrivers.flatMap((driver) => testStorages.map((storage) => [driver, storage] as const));

describe.each(cases)("files (%s, %s storage)", (driver, kind) => {
  let handle: TestDb;
  let store: TestStorage;
  let server: Server;
  let base: string;
  const publisher = recordingPublisher();
  const deps = testSendDeps(publisher);
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let dave: Persona;
  let outsider: Persona;
  let group: string;
  const cookies = new Map<string, string>();
  let png: Buffer;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    store = await startTestStorage(kind);
    [alice, bob, carol, dave, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "dave", "outsider");
    group = await seedGroup(handle.db, alice, [bob, dave]);
    for (const p of [alice, bob, carol, dave, outsider]) {
      cookies.set(
        p.id,
        `next-auth.session-token=${await encode({ token: { sub: p.id, name: p.displayName }, secret: AUTH_SECRET })}`,
      );
    }
    png = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#3366cc" } })
      .png()
      .toBuffer();
    server = createChorusServer({
      db: handle.db,
      publisher,
      authSecret: AUTH_SECRET,
      webhook: { key: "k", secret: "s" },
      headers: () => apiSecurityHeaders(),
      files: { storage: store.storage, uploadMaxBytes: MAX_BYTES, spoolDir: store.spoolDir },
      next: async (_req, res) => void res.writeHead(404).end(),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.stop();
    await handle.close();
  });

  function upload(
    who: Persona | null,
    file: { name: string; type?: string; bytes: Uint8Array },
    headers: Record<string, string> = {},
  ) {
    const form = new FormData();
    form.append(
      "file",
      new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type ?? "application/octet-stream" }),
      file.name,
    );
    return fetch(`${base}/api/files`, {
      method: "POST",
      body: form,
      headers: { ...(who ? { cookie: cookies.get(who.id) ?? "" } : {}), ...headers },
    });
  }
  const download = (who: Persona | null, path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers: { ...(who ? { cookie: cookies.get(who.id) ?? "" } : {}), ...headers } });

  async function uploaded(who: Persona, file: { name: string; type?: string; bytes: Uint8Array }) {
    const answer = await upload(who, file);
    expect(answer.status).toBe(201);
    return (await answer.json()) as {
      fileId: string;
      name: string;
      size: number;
      mime: string;
      width?: number;
      height?: number;
    };
  }
  const fileRows = async () =>
    Number((await queryRows<{ n: number }>(handle.db, sql`select count(*) as n from files`))[0].n);
  const spooled = async () => (await readdir(store.spoolDir).catch(() => [])).length;
  const send = (who: Persona, attachments: string[], body = "") =>
    sendMessage(
      handle.db,
      who.id,
      { conversationId: group, clientMsgId: crypto.randomUUID(), body, attachments },
      deps,
    );

  it("takes alice's image, sizes it and makes a thumbnail she can fetch before sending", async () => {
    const file = await uploaded(alice, { name: "holiday.png", type: "image/png", bytes: png });
    expect(file).toMatchObject({ name: "holiday.png", size: png.length, mime: "image/png", width: 800, height: 600 });

    const original = await download(alice, `/api/files/${file.fileId}`);
    expect(original.status).toBe(200);
    expect(original.headers.get("content-type")).toBe("image/png");
    expect(original.headers.get("content-disposition")).toMatch(/^inline;/);
    expect(original.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);

    const thumb = await download(alice, `/api/files/${file.fileId}/thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.format).toBe("webp");
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(480);
    expect(await store.keys()).toEqual(expect.arrayContaining([file.fileId, `${file.fileId}.thumb`]));
  });

  it("types a file from its bytes, not from its name or the browser's claim", async () => {
    const disguised = await uploaded(alice, { name: "report.pdf", type: "application/pdf", bytes: png });
    expect(disguised.mime).toBe("image/png");

    const page = new TextEncoder().encode("<html><script>alert(1)</script></html>");
    const html = await uploaded(alice, { name: "cat.png", type: "image/png", bytes: page });
    expect(html).toMatchObject({ mime: "application/octet-stream" });
    expect(html.width).toBeUndefined();
    const served = await download(alice, `/api/files/${html.fileId}`);
    expect(served.headers.get("content-type")).toBe("application/octet-stream");
    expect(served.headers.get("content-disposition")).toMatch(/^attachment; filename="cat.png"/);
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await served.text()).toBe("<html><script>alert(1)</script></html>");
  });

  it("offers a PDF as a download, with its UTF-8 name intact", async () => {
    const pdf = new TextEncoder().encode("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
    const file = await uploaded(alice, { name: "Übersicht 2026.pdf", bytes: pdf });
    expect(file.mime).toBe("application/pdf");
    const served = await download(alice, `/api/files/${file.fileId}`);
    expect(served.headers.get("content-type")).toBe("application/pdf");
    expect(served.headers.get("content-disposition")).toBe(
      `attachment; filename="_bersicht 2026.pdf"; filename*=UTF-8''${encodeURIComponent("Übersicht 2026.pdf")}`,
    );
  });

  it("refuses a file over UPLOAD_MAX_BYTES while it streams, keeping nothing", async () => {
    const rowsBefore = await fileRows();
    const keysBefore = (await store.keys()).length;
    const answer = await upload(alice, { name: "big.bin", bytes: new Uint8Array(MAX_BYTES + 1) });
    expect(answer.status).toBe(413);
    expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(/larger than the limit/);
    expect(await fileRows()).toBe(rowsBefore);
    expect((await store.keys()).length).toBe(keysBefore);
    expect(await spooled()).toBe(0);
  });

  it("refuses an oversized body sent in chunks with no length, before reading it all", async () => {
    const rowsBefore = await fileRows();
    const boundary = "chorusboundary";
    const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(head));
      },
      pull(controller) {
        // Far more than the limit (and than loopback socket buffers hold), unless the server stops reading.
        if (sent > MAX_BYTES * 256) return controller.close();
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const answer = await fetch(`${base}/api/files`, {
      method: "POST",
      body,
      duplex: "half",
      headers: { cookie: cookies.get(alice.id) ?? "", "content-type": `multipart/form-data; boundary=${boundary}` },
    } as RequestInit).catch((error: unknown) => error);
    if (answer instanceof Response) expect(answer.status).toBe(413);
    else expect(String((answer as Error).cause ?? answer)).toMatch(/other side closed|reset|socket|EPIPE/i);
    expect(sent).toBeLessThan(MAX_BYTES * 256);
    expect(await fileRows()).toBe(rowsBefore);
    expect(await spooled()).toBe(0);
  });

  it("refuses the signed out, other sites, other encodings, empty and unreadable files", async () => {
    const rowsBefore = await fileRows();
    expect((await upload(null, { name: "a.png", bytes: png })).status).toBe(401);
    expect((await upload(alice, { name: "a.png", bytes: png }, { origin: "https://evil.example" })).status).toBe(403);
    expect((await upload(alice, { name: "a.png", bytes: png }, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    const json = await fetch(`${base}/api/files`, {
      method: "POST",
      body: "{}",
      headers: { cookie: cookies.get(alice.id) ?? "", "content-type": "application/json" },
    });
    expect(json.status).toBe(415);
    const noFile = new FormData();
    noFile.append("note", "hello");
    const fieldOnly = await fetch(`${base}/api/files`, {
      method: "POST",
      body: noFile,
      headers: { cookie: cookies.get(alice.id) ?? "" },
    });
    expect(fieldOnly.status).toBe(400);
    const empty = await upload(alice, { name: "empty.txt", bytes: new Uint8Array(0) });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { message: string } }).error.message).toBe("The file is empty");
    const broken = await upload(alice, {
      name: "broken.png",
      bytes: Buffer.concat([png.subarray(0, 64), Buffer.alloc(500, 7)]),
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toBe(
      "This image could not be read",
    );
    expect((await fetch(`${base}/api/files`, { headers: { cookie: cookies.get(alice.id) ?? "" } })).status).toBe(405);
    expect(await fileRows()).toBe(rowsBefore);
    expect(await spooled()).toBe(0);
  });

  it("keeps a hostile file name as plain text, without folders or control characters", async () => {
    const file = await uploaded(alice, { name: "../../etc/\u202Egnp.exe", bytes: new TextEncoder().encode("hi") });
    expect(file.name).toBe("_gnp.exe");
  });

  it("serves byte ranges of a large file", async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
    const file = await uploaded(alice, { name: "data.bin", bytes });
    const part = await download(alice, `/api/files/${file.fileId}`, { range: "bytes=1000-1009" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 1000-1009/100000");
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([...bytes.subarray(1000, 1010)]);
    const tail = await download(alice, `/api/files/${file.fileId}`, { range: "bytes=-5" });
    expect(tail.status).toBe(206);
    expect([...new Uint8Array(await tail.arrayBuffer())]).toEqual([...bytes.subarray(99_995)]);
    const beyond = await download(alice, `/api/files/${file.fileId}`, { range: "bytes=200000-" });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */100000");
    expect((await download(alice, `/api/files/${file.fileId}`)).headers.get("accept-ranges")).toBe("bytes");
  });

  it("shows nobody but the uploader a file not yet sent", async () => {
    const file = await uploaded(alice, { name: "draft.png", bytes: png });
    for (const who of [bob, outsider]) {
      expect((await download(who, `/api/files/${file.fileId}`)).status).toBe(404);
      expect((await download(who, `/api/files/${file.fileId}/thumbnail`)).status).toBe(404);
    }
    expect((await download(null, `/api/files/${file.fileId}`)).status).toBe(401);
    expect((await download(alice, `/api/files/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await download(alice, "/api/files/not-an-id")).status).toBe(404);
  });

  it("sends files with a message: history and message.new carry their metadata, in upload order", async () => {
    const image = await uploaded(alice, { name: "a.png", bytes: png });
    const doc = await uploaded(alice, { name: "b.txt", bytes: new TextEncoder().encode("notes") });
    const sent = await send(alice, [image.fileId, doc.fileId]);
    expect(sent.body).toBe("");
    const expected = [
      {
        id: image.fileId,
        name: "a.png",
        mime: "image/png",
        size: png.length,
        width: 800,
        height: 600,
        thumbnail: true,
      },
      {
        id: doc.fileId,
        name: "b.txt",
        mime: "application/octet-stream",
        size: 5,
        width: null,
        height: null,
        thumbnail: false,
      },
    ];
    expect(sent.attachments).toEqual(expected);
    const announced = publisher.published.find(
      (p) => p.event === "message.new" && (p.payload as { seq: number }).seq === sent.seq,
    );
    expect(announced?.payload).toMatchObject({ attachments: expected });
    const page = await readHistory(handle.db, bob.id, { conversationId: group, limit: 1 });
    expect(page.messages[0]).toMatchObject({ seq: sent.seq, body: "", attachments: expected });
    // Bob, a member, now sees both.
    expect((await download(bob, `/api/files/${image.fileId}`)).status).toBe(200);
    expect((await download(bob, `/api/files/${image.fileId}/thumbnail`)).status).toBe(200);
    expect((await download(bob, `/api/files/${doc.fileId}/thumbnail`)).status).toBe(404);
  });

  it("refuses attachments that are not the sender's own unsent uploads, and writes nothing", async () => {
    const mine = await uploaded(alice, { name: "mine.png", bytes: png });
    const bobs = await uploaded(bob, { name: "bobs.png", bytes: png });
    const lastSeq = async () =>
      Number(
        (
          await queryRows<{ s: number }>(
            handle.db,
            sql`select last_seq as s from conversations where id = ${group}::uuid`,
          )
        )[0].s,
      );
    const before = await lastSeq();
    await expect(send(alice, [bobs.fileId])).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(send(alice, [mine.fileId, crypto.randomUUID()])).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(send(outsider, [], "hi")).rejects.toMatchObject({ code: "FORBIDDEN" });
    const outsiderFile = await uploaded(outsider, { name: "o.png", bytes: png });
    await expect(send(outsider, [outsiderFile.fileId], "hi")).rejects.toMatchObject({ code: "FORBIDDEN" });
    // The claim was rolled back with the send it belonged to.
    const [claimed] = await queryRows<{ m: string | null }>(
      handle.db,
      sql`select message_id::text as m from files where id = ${outsiderFile.fileId}::uuid`,
    );
    expect(claimed.m).toBeNull();
    expect(await lastSeq()).toBe(before);
    // Nothing was claimed by the refused sends.
    await send(alice, [mine.fileId], "mine");
    await expect(send(alice, [mine.fileId], "again")).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await lastSeq()).toBe(before + 1);
    const alice_ = callerFor(handle.db, alice, publisher);
    await expect(alice_.message.send({ conversationId: group, clientMsgId: "x", body: "" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    const eleven = Array.from({ length: 11 }, () => crypto.randomUUID());
    await expect(
      alice_.message.send({ conversationId: group, clientMsgId: "y", body: "hi", attachments: eleven }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      alice_.message.send({
        conversationId: group,
        clientMsgId: "z",
        body: "hi",
        attachments: [mine.fileId, mine.fileId],
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("a resend with the same clientMsgId returns the original and claims nothing more", async () => {
    const file = await uploaded(alice, { name: "once.png", bytes: png });
    const clientMsgId = crypto.randomUUID();
    const first = await sendMessage(
      handle.db,
      alice.id,
      { conversationId: group, clientMsgId, body: "", attachments: [file.fileId] },
      deps,
    );
    const other = await uploaded(alice, { name: "other.png", bytes: png });
    const again = await sendMessage(
      handle.db,
      alice.id,
      { conversationId: group, clientMsgId, body: "", attachments: [other.fileId] },
      deps,
    );
    expect(again).toMatchObject({ seq: first.seq, attachments: [{ id: file.fileId }] });
    const [row] = await queryRows<{ m: string | null }>(
      handle.db,
      sql`select message_id::text as m from files where id = ${other.fileId}::uuid`,
    );
    expect(row.m).toBeNull();
  });

  it("lets only members who can see the message download its files", async () => {
    const early = await uploaded(alice, { name: "early.png", bytes: png });
    await send(alice, [early.fileId]);
    // Carol joins later: she sees what comes after, not before.
    await callerFor(handle.db, alice, publisher).group.addMembers({ conversationId: group, userIds: [carol.id] });
    const late = await uploaded(alice, { name: "late.png", bytes: png });
    await send(alice, [late.fileId]);
    // Dave is removed: he keeps what he saw, nothing after.
    await callerFor(handle.db, alice, publisher).group.removeMember({ conversationId: group, userId: dave.id });
    const after = await uploaded(alice, { name: "after.png", bytes: png });
    await send(alice, [after.fileId]);

    const status = async (who: Persona, id: string) => (await download(who, `/api/files/${id}`)).status;
    expect([await status(bob, early.fileId), await status(bob, late.fileId), await status(bob, after.fileId)]).toEqual([
      200, 200, 200,
    ]);
    expect([
      await status(carol, early.fileId),
      await status(carol, late.fileId),
      await status(carol, after.fileId),
    ]).toEqual([404, 200, 200]);
    expect([
      await status(dave, early.fileId),
      await status(dave, late.fileId),
      await status(dave, after.fileId),
    ]).toEqual([200, 200, 404]);
    expect([await status(outsider, early.fileId), await status(outsider, late.fileId)]).toEqual([404, 404]);
    expect((await download(dave, `/api/files/${after.fileId}/thumbnail`)).status).toBe(404);

    // A deleted message's files are gone for everyone.
    await handle.db.execute(
      sql`update messages set deleted_at = now() where id = (select message_id from files where id = ${late.fileId}::uuid)`,
    );
    expect(await status(bob, late.fileId)).toBe(404);
  });

  it("writes the same rows for a send with files to a 3-member group and a 1,000-member one", async () => {
    const rowsOf = async (conversationId: string) => {
      const a = await uploaded(alice, { name: "x.png", bytes: png });
      const b = await uploaded(alice, { name: "y.txt", bytes: new TextEncoder().encode("y") });
      const sent = await sendMessage(
        handle.db,
        alice.id,
        { conversationId, clientMsgId: crypto.randomUUID(), body: "two files", attachments: [a.fileId, b.fileId] },
        deps,
      );
      const [{ x }] = await queryRows<{ x: string }>(
        handle.db,
        sql`select xmin::text as x from messages where conversation_id = ${conversationId}::uuid and seq = ${sent.seq}`,
      );
      const [row] = await queryRows<Record<string, string | number>>(
        handle.db,
        sql`select (select count(*) from conversations where xmin::text = ${x}) as conversations,
                   (select count(*) from members where xmin::text = ${x}) as members,
                   (select count(*) from messages where xmin::text = ${x}) as messages,
                   (select count(*) from files where xmin::text = ${x}) as files`,
      );
      return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
    };
    const small = await seedGroup(handle.db, alice, [bob, carol]);
    const big = await seedGroup(handle.db, alice, [bob]);
    await seedCrowd(handle.db, big, 998);
    // (The outbox row is re-stamped when it is published, so it is not counted by transaction here.)
    const expected = { conversations: 1, members: 1, messages: 1, files: 2 };
    expect(await rowsOf(small)).toEqual(expected);
    expect(await rowsOf(big)).toEqual(expected);
  });

  it("deletes uploads nobody sent after a day, and keeps sent ones and fresh ones", async () => {
    const stale = await uploaded(alice, { name: "stale.png", bytes: png });
    const fresh = await uploaded(alice, { name: "fresh.txt", bytes: new TextEncoder().encode("f") });
    const kept = await uploaded(alice, { name: "kept.txt", bytes: new TextEncoder().encode("k") });
    await send(alice, [kept.fileId]);
    await handle.db.execute(
      sql`update files set created_at = now() - interval '25 hours' where id in (${stale.fileId}::uuid, ${kept.fileId}::uuid)`,
    );
    const { deleted } = await sweepUnusedUploads(handle.db, store.storage);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const ids = (await queryRows<{ id: string }>(handle.db, sql`select id from files`)).map((r) => r.id);
    expect(ids).not.toContain(stale.fileId);
    expect(ids).toEqual(expect.arrayContaining([fresh.fileId, kept.fileId]));
    const keys = await store.keys();
    expect(keys).not.toContain(stale.fileId);
    expect(keys).not.toContain(`${stale.fileId}.thumb`);
    expect(keys).toEqual(expect.arrayContaining([fresh.fileId, kept.fileId]));
  });
});
