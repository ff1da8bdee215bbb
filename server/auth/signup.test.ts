import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invites, users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { createInvite } from "../admin/invites";
import { createPersona } from "../testing/personas";
import { register, type SignUpPolicy } from "./accounts";

const inviteOnly: SignUpPolicy = { mode: "invite", adminUsernames: ["root_admin"] };
const closed: SignUpPolicy = { mode: "closed", adminUsernames: ["root_admin"] };
const open: SignUpPolicy = { mode: "open", adminUsernames: [] };

let unique = 0;
const newcomer = (extra: Record<string, unknown> = {}) => ({
  username: `newcomer_${Date.now().toString(36)}${unique++}`,
  displayName: "Newcomer",
  password: "correct horse battery",
  ...extra,
});

describe.each(testDrivers)("who may sign up (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let adminId: string;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    adminId = (await createPersona(db, "gina")).id;
  });
  afterAll(async () => {
    await handle?.close();
  });

  const usesOf = async (code: string) =>
    (await db.select({ uses: invites.uses }).from(invites).where(eq(invites.code, code)))[0]?.uses;

  it("anyone signs up on an open server, and an invite brought along is spent", async () => {
    expect(await register(db, newcomer(), open)).toMatchObject({ displayName: "Newcomer" });
    const { code } = await createInvite(db, adminId, { maxUses: 2, expiresInHours: 1 });
    await register(db, newcomer({ inviteCode: code }), open);
    expect(await usesOf(code)).toBe(1);
  });

  it("an invite-only server refuses a newcomer without an invite and writes nothing", async () => {
    const before = await db.$count(users);
    await expect(register(db, newcomer(), inviteOnly)).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Sign-up on this server needs an invite",
    });
    expect(await db.$count(users)).toBe(before);
  });

  it("an invite signs up as many people as it allows, then is used up", async () => {
    const { code, url } = await createInvite(db, adminId, { maxUses: 2, expiresInHours: 24 });
    expect(code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(url).toContain(`/sign-up?invite=${code}`);
    await register(db, newcomer({ inviteCode: code }), inviteOnly);
    await register(db, newcomer({ inviteCode: code }), inviteOnly);
    const before = await db.$count(users);
    await expect(register(db, newcomer({ inviteCode: code }), inviteOnly)).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "This invite is unknown, expired or used up",
    });
    expect(await db.$count(users)).toBe(before);
    expect(await usesOf(code)).toBe(2);
  });

  it("five people racing for an invite's last use: exactly one gets in", async () => {
    const { code } = await createInvite(db, adminId, { maxUses: 1, expiresInHours: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => register(db, newcomer({ inviteCode: code }), inviteOnly)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await usesOf(code)).toBe(1);
  });

  it("an expired invite and an unknown code are refused alike", async () => {
    const { code } = await createInvite(
      db,
      adminId,
      { maxUses: 5, expiresInHours: 1 },
      new Date(Date.now() - 2 * 3_600_000),
    );
    for (const inviteCode of [code, "NoSuchInviteCode0000000"]) {
      await expect(register(db, newcomer({ inviteCode }), inviteOnly)).rejects.toMatchObject({
        code: "FORBIDDEN",
        message: "This invite is unknown, expired or used up",
      });
    }
    expect(await usesOf(code)).toBe(0);
  });

  it("a taken username gives its use back to the invite", async () => {
    const { code } = await createInvite(db, adminId, { maxUses: 1, expiresInHours: 1 });
    const taken = await createPersona(db, "alice");
    await expect(
      register(db, newcomer({ username: taken.username, inviteCode: code }), inviteOnly),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await usesOf(code)).toBe(0);
  });

  it("a closed server refuses everyone, invite or not, except the usernames named as admins", async () => {
    const { code } = await createInvite(db, adminId, { maxUses: 5, expiresInHours: 1 });
    await expect(register(db, newcomer({ inviteCode: code }), closed)).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Sign-up is closed on this server",
    });
    expect(await register(db, newcomer({ username: "Root_Admin" }), closed)).toMatchObject({ username: "Root_Admin" });
  });

  it("the first admin of an invite-only install registers without an invite", async () => {
    const fresh: SignUpPolicy = { mode: "invite", adminUsernames: ["first_boss"] };
    expect(await register(db, newcomer({ username: "first_boss" }), fresh)).toMatchObject({ username: "first_boss" });
  });
});
