import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userIdentities, users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { deactivateUser } from "../admin/users";
import { createPersona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";
import type { SignUpPolicy } from "./accounts";
import { type OidcIdentity, signInWithOidc } from "./oidc";

const ISSUER = "https://id.example.test";
const open: SignUpPolicy = { mode: "open", adminUsernames: [] };
const inviteOnly: SignUpPolicy = { mode: "invite", adminUsernames: ["boss"] };

let unique = 0;
const olivia = (extra: Partial<OidcIdentity> = {}): OidcIdentity => {
  const tag = `${Date.now().toString(36)}${unique++}`;
  return {
    issuer: ISSUER,
    subject: `sub-${tag}`,
    email: `olivia.${tag}@example.test`,
    emailVerified: true,
    preferredUsername: `olivia_${tag}`,
    name: "Olivia",
    ...extra,
  };
};

describe.each(testDrivers)("single sign-on accounts (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    db = handle.db;
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("a first sign-in makes an account named as the provider says; the next finds the same one", async () => {
    const identity = olivia();
    const first = await signInWithOidc(db, identity, open);
    expect(first).toMatchObject({ username: identity.preferredUsername, displayName: "Olivia", epoch: 0 });
    const again = await signInWithOidc(db, { ...identity, email: "changed@example.test" }, open);
    expect(again.id).toBe(first.id);
    expect(await db.$count(userIdentities, eq(userIdentities.userId, first.id))).toBe(1);
  });

  it("a verified email links a second provider account to the same person; an unverified one never does", async () => {
    const identity = olivia();
    const first = await signInWithOidc(db, identity, open);
    const viaOtherIssuer = await signInWithOidc(db, { ...identity, issuer: "https://other.example.test" }, open);
    expect(viaOtherIssuer.id).toBe(first.id);
    // Someone who only claims the address gets an account of their own, not olivia's.
    const claimer = await signInWithOidc(db, { ...identity, subject: "sub-claimer", emailVerified: false }, open);
    expect(claimer.id).not.toBe(first.id);
  });

  it("a taken username gets a suffix instead of taking over the existing account", async () => {
    const alice = await createPersona(db, "alice");
    const user = await signInWithOidc(db, olivia({ preferredUsername: alice.username }), open);
    expect(user.id).not.toBe(alice.id);
    expect(user.username).toMatch(new RegExp(`^${alice.username.slice(0, 27)}_[0-9a-f]{4}$`));
  });

  it("odd usernames from the provider become valid ones, and hostile names stay text", async () => {
    const user = await signInWithOidc(
      db,
      olivia({ preferredUsername: "<b>o</b>", name: "<img src=x onerror=alert(1)>" }),
      open,
    );
    expect(user.username).toMatch(/^[A-Za-z0-9_.-]{3,32}$/);
    expect(user.displayName).toBe("<img src=x onerror=alert(1)>");
  });

  it("an invite-only server refuses a stranger's first sign-in but lets a named admin in; existing accounts still sign in", async () => {
    const before = await db.$count(users);
    await expect(signInWithOidc(db, olivia(), inviteOnly)).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Sign-up on this server needs an invite",
    });
    expect(await db.$count(users)).toBe(before);
    expect(await signInWithOidc(db, olivia({ preferredUsername: "boss" }), inviteOnly)).toMatchObject({
      username: "boss",
    });
    const known = olivia();
    const made = await signInWithOidc(db, known, open);
    expect((await signInWithOidc(db, known, inviteOnly)).id).toBe(made.id);
  });

  it("a deactivated person is refused", async () => {
    const identity = olivia();
    const made = await signInWithOidc(db, identity, open);
    const admin = await createPersona(db, "gina");
    await deactivateUser(db, admin.id, { userId: made.id }, { publisher: recordingPublisher() });
    await expect(signInWithOidc(db, identity, open)).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "This account has been deactivated",
    });
  });
});
