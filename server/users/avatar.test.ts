import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userAvatars } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { AVATAR_PIXELS, MAX_AVATAR_UPLOAD_BYTES } from "@/lib/limits";
import { startTestServer, type TestServer } from "../testing/http";
import { createPersonas, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";

/** A photo-like image: a 1200x800 gradient as JPEG. */
async function photo(): Promise<Buffer> {
  const width = 1200;
  const height = 800;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    pixels[i * 3] = i % 256;
    pixels[i * 3 + 1] = (i >> 8) % 256;
    pixels[i * 3 + 2] = 128;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 60 })
    .toBuffer();
}

describe.each(testDrivers)("avatars (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let realtime: TestSoketi;
  let api: TestServer;
  let alice: Persona;
  let bob: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    realtime = await startTestSoketi();
    api = await startTestServer(db, realtime);
    [alice, bob] = await createPersonas(db, "alice", "bob");
  });
  afterAll(async () => {
    await api?.close();
    await realtime?.soketi.stop();
    await handle?.close();
  });

  it("alice uploads a photo; it is stored as a small square WebP that bob's browser can load", async () => {
    const upload = await photo();
    expect(upload.length).toBeLessThan(MAX_AVATAR_UPLOAD_BYTES);
    const alices = await api.cookieFor(alice);
    const answer = await api.mutation(alices, "user.setAvatar", { image: upload.toString("base64") });
    expect(answer.status).toBe(200);
    const avatarUrl = (answer.data as { avatarUrl: string }).avatarUrl;
    expect(avatarUrl).toMatch(new RegExp(`^/api/avatars/${alice.id}\\?v=\\d+$`));

    const served = await fetch(`${api.base}${avatarUrl}`, { headers: { cookie: await api.cookieFor(bob) } });
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/webp");
    const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: "webp", width: AVATAR_PIXELS, height: AVATAR_PIXELS });
    // One small row; the users row carries only the URL.
    const [row] = await db.select().from(userAvatars);
    expect(row.image.length).toBeLessThan(20_000);

    expect((await fetch(`${api.base}${avatarUrl}`)).status).toBe(401);
    expect((await fetch(`${api.base}/api/avatars/${bob.id}`, { headers: { cookie: alices } })).status).toBe(404);
  });

  it("refuses what is not an image, an oversized upload and malformed base64, changing nothing", async () => {
    const bobs = await api.cookieFor(bob);
    const cases = [
      { image: Buffer.from("<svg onload=alert(1)></svg>").toString("base64"), code: "BAD_REQUEST" },
      { image: Buffer.from("%PDF-1.4 not an image").toString("base64"), code: "BAD_REQUEST" },
      { image: "not base64!!", code: "BAD_REQUEST" },
      { image: "", code: "BAD_REQUEST" },
      { image: 42, code: "BAD_REQUEST" },
    ];
    for (const { image, code } of cases) {
      expect(await api.mutation(bobs, "user.setAvatar", { image })).toMatchObject({ code });
    }
    const huge = Buffer.alloc(MAX_AVATAR_UPLOAD_BYTES + 3000, 1).toString("base64");
    expect((await api.mutation(bobs, "user.setAvatar", { image: huge })).status).toBeGreaterThanOrEqual(400);
    expect(await api.query(bobs, "user.me")).toMatchObject({ data: { avatarUrl: null } });
  });

  it("removing the avatar goes back to initials", async () => {
    const alices = await api.cookieFor(alice);
    expect(await api.mutation(alices, "user.setAvatar", { image: null })).toMatchObject({
      status: 200,
      data: { avatarUrl: null },
    });
    expect((await fetch(`${api.base}/api/avatars/${alice.id}`, { headers: { cookie: alices } })).status).toBe(404);
  });
});
