import { randomBytes } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { userIdentities, users } from "@/db/schema";
import type { Db } from "@/db/types";
import { MAX_DISPLAY_NAME_CHARS, MAX_USERNAME_CHARS, MIN_USERNAME_CHARS } from "@/lib/limits";
import { env } from "../env";
import { AppError } from "../errors";
import { logger } from "../logger";
import { admitSignUp, type SignInUser, type SignUpPolicy, signUpPolicy } from "./accounts";
import { hashPassword } from "./password";

const log = logger.child({ domain: "auth" });

/** What an OpenID provider says about the person signing in. */
export type OidcIdentity = {
  issuer: string;
  subject: string;
  email?: string | null;
  emailVerified?: boolean;
  preferredUsername?: string | null;
  name?: string | null;
};

export type OidcSettings = { issuer: string; clientId: string; clientSecret: string; name: string };

/** Single sign-on's settings, when all three variables are set. */
export function oidcSettings(): OidcSettings | null {
  if (!env.OIDC_ISSUER || !env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET) return null;
  return {
    issuer: env.OIDC_ISSUER.replace(/\/$/, ""),
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    name: env.OIDC_NAME,
  };
}

const signInColumns = {
  id: users.id,
  username: users.username,
  displayName: users.displayName,
  avatarUrl: users.avatarUrl,
  epoch: users.sessionEpoch,
  deactivatedAt: users.deactivatedAt,
};

type Found = SignInUser & { deactivatedAt: Date | null };

function admitted(found: Found): SignInUser {
  if (found.deactivatedAt) throw new AppError("FORBIDDEN", "This account has been deactivated");
  const { deactivatedAt: _deactivated, ...user } = found;
  return user;
}

/** A valid, free username from what the provider offers: cleaned, padded, suffixed when taken. */
async function freeUsername(db: Db, identity: OidcIdentity): Promise<string> {
  const offered = identity.preferredUsername || identity.email?.split("@")[0] || "user";
  let base = offered.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, MAX_USERNAME_CHARS - 5);
  if (base.length < MIN_USERNAME_CHARS) base = `${base}_user`.slice(0, MAX_USERNAME_CHARS - 5);
  for (let attempt = 0; attempt < 5; attempt++) {
    const candidate = attempt === 0 ? base : `${base}_${randomBytes(2).toString("hex")}`;
    const [taken] = await db
      .select({ id: users.id })
      .from(users)
      .where(eq(sql`lower(${users.username})`, candidate.toLowerCase()))
      .limit(1);
    if (!taken) return candidate;
  }
  return `${base}_${randomBytes(4).toString("hex")}`;
}

/**
 * The Chorus user an OpenID sign-in is: the one already linked to this
 * provider account; else the one with the same verified email (linked now);
 * else a new account, if the sign-up mode lets this person in. Throws
 * FORBIDDEN with the reason otherwise.
 */
export async function signInWithOidc(
  db: Db,
  identity: OidcIdentity,
  policy: SignUpPolicy = signUpPolicy(),
): Promise<SignInUser> {
  const [linked] = await db
    .select(signInColumns)
    .from(userIdentities)
    .innerJoin(users, eq(users.id, userIdentities.userId))
    .where(and(eq(userIdentities.issuer, identity.issuer), eq(userIdentities.subject, identity.subject)))
    .limit(1);
  if (linked) return admitted(linked);

  const email = identity.email && identity.emailVerified === true ? identity.email.trim() : null;
  if (email) {
    const [byEmail] = await db
      .select(signInColumns)
      .from(users)
      .where(eq(sql`lower(${users.email})`, email.toLowerCase()))
      .limit(1);
    if (byEmail) {
      const user = admitted(byEmail);
      await db
        .insert(userIdentities)
        .values({ issuer: identity.issuer, subject: identity.subject, userId: user.id })
        .onConflictDoNothing();
      log.info({ userId: user.id, issuer: identity.issuer }, "single sign-on linked by verified email");
      return user;
    }
  }

  const username = await freeUsername(db, identity);
  const displayName = (identity.name?.trim() || username).slice(0, MAX_DISPLAY_NAME_CHARS);
  // Nobody knows this password: the account signs in through its provider (or after an admin's reset).
  const passwordHash = await hashPassword(randomBytes(32).toString("base64url"));
  const created = await db.transaction(async (tx) => {
    await admitSignUp(tx, { username, policy });
    const [row] = await tx
      .insert(users)
      .values({ username, displayName, passwordHash, email })
      .returning(signInColumns);
    await tx.insert(userIdentities).values({ issuer: identity.issuer, subject: identity.subject, userId: row.id });
    return row;
  });
  log.info({ userId: created.id, issuer: identity.issuer }, "single sign-on created an account");
  return admitted(created);
}
