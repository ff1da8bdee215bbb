import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { unzipSync, strFromU8 } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { files as filesTable, users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { removeMember } from "../groups/membership";
import { sendMessage } from "../messaging/send";
import { seedGroup, testSendDeps } from "../testing/conversations";
import { startTestServer, type TestServer } from "../testing/http";
import { createPersonas, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";

describe.each(testDrivers)("exporting a person's data (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let api: TestServer;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let gina: Persona;
  let group: string;
  let secret: string;

  const say = (who: Persona, conversationId: string, body: string) =>
    sendMessage(db, who.id, { conversationId, clientMsgId: randomUUID(), body }, testSendDeps(realtime.publisher));

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    realtime = await startTestSoketi();
    api = await startTestServer(db, realtime);
    [alice, bob, carol, gina] = await createPersonas(db, "alice", "bob", "carol", "gina");
    await db.update(users).set({ isAdmin: true }).where(eq(users.id, gina.id));
    group = await seedGroup(db, alice, [bob, carol], "Launch team");
    await say(alice, group, "Kick-off at ten");
    await say(bob, group, "I will bring <b>slides</b>");
    await db.insert(filesTable).values({
      uploaderId: bob.id,
      name: "slides.pdf",
      mime: "application/pdf",
      size: 1234,
      storageKey: "test/slides.pdf",
      conversationId: group,
    });
    await removeMember(db, alice.id, { conversationId: group, userId: bob.id }, { publisher: realtime.publisher });
    await say(carol, group, "Bob left, so");
    // Alice and carol's own group: bob was never in it.
    secret = await seedGroup(db, alice, [carol], "Surprise party");
    await say(alice, secret, "Cake for bob on Friday");
  });
  afterAll(async () => {
    await api?.close();
    await realtime?.soketi.stop();
    await handle?.close();
  });

  async function download(cookie: string | null, query = "") {
    const response = await fetch(`${api.base}/api/export${query}`, { headers: cookie ? { cookie } : {} });
    const body = Buffer.from(await response.arrayBuffer());
    return { response, files: response.status === 200 ? unzipSync(body) : null, body };
  }
  const json = (files: Record<string, Uint8Array>, name: string) => JSON.parse(strFromU8(files[name]));

  it("bob downloads a zip of his profile, his conversations and exactly the messages he could see", async () => {
    const { response, files } = await download(await api.cookieFor(bob));
    expect(response.headers.get("content-type")).toBe("application/zip");
    expect(response.headers.get("content-disposition")).toMatch(
      new RegExp(`attachment; filename="chorus-${bob.username}-\\d{4}-\\d{2}-\\d{2}\\.zip"`),
    );
    if (!files) throw new Error("no zip");
    expect(Object.keys(files).sort()).toEqual(
      ["README.txt", "conversations.json", "files.json", `messages/${group}.json`, "profile.json"].sort(),
    );
    expect(json(files, "profile.json")).toMatchObject({ id: bob.id, username: bob.username });
    expect(json(files, "files.json")).toEqual([
      expect.objectContaining({ name: "slides.pdf", mime: "application/pdf", size: 1234, conversationId: group }),
    ]);
    expect(json(files, "conversations.json")).toEqual([
      expect.objectContaining({ conversationId: group, name: "Launch team", leftAt: expect.any(String) }),
    ]);
    const bodies = json(files, `messages/${group}.json`)
      .filter((m: { kind: string }) => m.kind === "text")
      .map((m: { body: string }) => m.body);
    // Up to his removal, hostile text kept as text; nothing after, and nothing of the group he was never in.
    expect(bodies).toEqual(["Kick-off at ten", "I will bring <b>slides</b>"]);
    expect(JSON.stringify(Object.values(files).map((f) => strFromU8(f)))).not.toContain("Cake for bob");
  });

  it("a history longer than a page (1,000) is exported in full, in order", { timeout: 180_000 }, async () => {
    const busy = await seedGroup(db, carol, [alice], "Busy");
    for (let i = 1; i <= 1_050; i += 150) {
      await Promise.all(Array.from({ length: 150 }, (_, j) => say(carol, busy, `message ${i + j}`)));
    }
    const { files } = await download(await api.cookieFor(alice));
    if (!files) throw new Error("no zip");
    const seqs = json(files, `messages/${busy}.json`).map((m: { seq: number }) => m.seq);
    expect(seqs).toHaveLength(1_050);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(1_050);
  });

  it("an admin exports someone else's data; anyone else is refused, and so is a signed-out visitor", async () => {
    const asAdmin = await download(await api.cookieFor(gina), `?userId=${bob.id}`);
    expect(asAdmin.response.status).toBe(200);
    expect(json(asAdmin.files ?? {}, "profile.json")).toMatchObject({ id: bob.id });

    const asCarol = await download(await api.cookieFor(carol), `?userId=${bob.id}`);
    expect(asCarol.response.status).toBe(403);
    expect((await download(null)).response.status).toBe(401);
    expect((await download(await api.cookieFor(gina), "?userId=<script>")).response.status).toBe(400);
    const nobody = "00000000-0000-4000-8000-000000000000";
    expect((await download(await api.cookieFor(gina), `?userId=${nobody}`)).response.status).toBe(404);
  });
});
