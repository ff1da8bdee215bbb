import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outbox, users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { verifyCredentials } from "../auth/accounts";
import { callerFor, createPersona, createPersonas, PERSONA_PASSWORD, type Persona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";
import { requireSiteAdmin } from "./admins";
import { siteHealth, startInstanceBeat } from "./health";

describe.each(testDrivers)("site administration (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let gina: Persona;
  const publisher = recordingPublisher();
  const asGina = () => callerFor(db, gina, publisher);

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
    gina = await createPersona(db, "gina");
    await db.update(users).set({ isAdmin: true }).where(eq(users.id, gina.id));
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("a user named in ADMIN_USERNAMES is an admin without the role; anyone else is refused", async () => {
    const [root, carol] = await createPersonas(db, "root", "carol");
    await expect(requireSiteAdmin(db, root.id, [root.username.toLowerCase()])).resolves.toBeUndefined();
    await expect(requireSiteAdmin(db, carol.id, [root.username.toLowerCase()])).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Only site admins can do this",
    });
    await expect(callerFor(db, carol).admin.users.list({})).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("lists users page by page in username order, deactivated ones too, and finds them by name", async () => {
    const tag = `zz${Date.now().toString(36)}`;
    const people = await Promise.all(["a", "b", "c", "d", "e"].map((l) => createPersona(db, `${tag}${l}`)));
    await asGina().admin.users.deactivate({ userId: people[1].id });
    const first = await asGina().admin.users.list({ query: tag, limit: 3 });
    expect(first.users.map((u) => u.username)).toEqual(people.slice(0, 3).map((p) => p.username));
    expect(first.users[1].deactivatedAt).toBeInstanceOf(Date);
    const second = await asGina().admin.users.list({ query: tag, limit: 3, cursor: first.nextCursor ?? undefined });
    expect(second.users.map((u) => u.username)).toEqual(people.slice(3).map((p) => p.username));
    expect(second.nextCursor).toBeNull();
    // A cursor is a username from a previous page: anything else is refused before the query runs.
    for (const cursor of ["zz\u0000", "a\tb", "x".repeat(201), "'; select 1; --"]) {
      await expect(asGina().admin.users.list({ query: tag, cursor })).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringContaining("cursor must be the nextCursor of a previous page"),
      });
    }
    // Wildcards are literal; a deactivated user drops out of everyone's people search.
    expect((await asGina().admin.users.list({ query: "%" })).users).toEqual([]);
    const found = await callerFor(db, people[0]).user.search({ query: tag });
    expect(found.map((u) => u.id)).not.toContain(people[1].id);
  });

  it("refuses unknown and malformed user ids with clear errors, and gina deactivating herself", async () => {
    const nobody = "00000000-0000-4000-8000-000000000000";
    await expect(asGina().admin.users.deactivate({ userId: nobody })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(asGina().admin.users.reactivate({ userId: nobody })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(asGina().admin.users.deactivate({ userId: "<script>" })).rejects.toThrow(/userId must be a UUID/);
    await expect(asGina().admin.users.deactivate({ userId: gina.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "You cannot deactivate your own account",
    });
  });

  it("resets a forgotten password: the old one stops working and the user's sessions end", async () => {
    const bob = await createPersona(db, "bob");
    const ended = publisher.terminated.length;
    await asGina().admin.users.resetPassword({ userId: bob.id, newPassword: "set by the admin" });
    expect(await verifyCredentials(db, bob.username, PERSONA_PASSWORD)).toBeNull();
    expect(await verifyCredentials(db, bob.username, "set by the admin")).toMatchObject({ id: bob.id, epoch: 1 });
    expect(publisher.terminated.slice(ended)).toEqual([{ userId: bob.id }]);
  });

  it("grants the admin role, after which the grantee may administer; nobody revokes their own", async () => {
    const carol = await createPersona(db, "carol");
    await expect(callerFor(db, carol).admin.health()).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await asGina().admin.users.setAdmin({ userId: carol.id, admin: true })).toEqual({ isAdmin: true });
    await expect(callerFor(db, carol).admin.health()).resolves.toMatchObject({ users: expect.any(Object) });
    await expect(callerFor(db, carol).admin.users.setAdmin({ userId: carol.id, admin: false })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await callerFor(db, carol).admin.users.setAdmin({ userId: gina.id, admin: false })).toEqual({
      isAdmin: false,
    });
    await expect(asGina().admin.health()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await callerFor(db, carol).admin.users.setAdmin({ userId: gina.id, admin: true });
  });

  it("creates invites within bounds and refuses out-of-range ones", async () => {
    const invite = await asGina().admin.invites.create({ maxUses: 10, expiresInHours: 48 });
    expect(invite).toMatchObject({ code: expect.any(String), url: expect.stringContaining(invite.code) });
    for (const bad of [
      { maxUses: 0, expiresInHours: 1 },
      { maxUses: 1, expiresInHours: 0 },
      { maxUses: 1.5, expiresInHours: 1 },
      { maxUses: 100_000, expiresInHours: 1 },
      { maxUses: 1, expiresInHours: 100_000 },
      { maxUses: "5", expiresInHours: 1 },
    ]) {
      await expect(asGina().admin.invites.create(bad as never)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
  });

  it("health names the running instances and their versions, the outbox backlog and the database size", async () => {
    const beat = startInstanceBeat(db, "9.9.9-test", { beatMs: 50 });
    await db.insert(outbox).values({ channels: ["private-user-x"], event: "sync", payload: { version: 1 } });
    await expect
      .poll(async () => (await asGina().admin.health()).instances.map((i) => i.id), { timeout: 2_000 })
      .toContain(beat.id);
    const health = await asGina().admin.health();
    expect(health.instances.find((i) => i.id === beat.id)).toMatchObject({
      version: "9.9.9-test",
      node: process.versions.node,
    });
    expect(health.outbox.pending).toBeGreaterThanOrEqual(1);
    expect(health.databaseBytes).toBeGreaterThan(0);
    expect(health.postgres).toMatch(/^\d+/);
    await beat.stop();
    expect((await siteHealth(db)).instances.map((i) => i.id)).not.toContain(beat.id);
  });
});
