import type { NextAuthOptions } from "next-auth";
import type { OAuthConfig } from "next-auth/providers/oauth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getServerSession } from "next-auth";
import { authSecret } from "../config/secrets";
import { env } from "../env";
import { getAppDb } from "../db";
import { logger } from "../logger";
import { AppError } from "../errors";
import { type OidcSettings, oidcSettings, signInWithOidc } from "./oidc";
import { sessionIsCurrent } from "./standing";
import { authThrottle, requestAddress } from "./throttle";

/** next-auth's id of the OpenID provider: the sign-in button and the callback URL (/api/auth/callback/oidc) use it. */
export const OIDC_PROVIDER_ID = "oidc";

type OidcProfile = {
  sub: string;
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
};

function oidcProvider(settings: OidcSettings): OAuthConfig<OidcProfile> {
  return {
    id: OIDC_PROVIDER_ID,
    name: settings.name,
    type: "oauth",
    wellKnown: `${settings.issuer}/.well-known/openid-configuration`,
    issuer: settings.issuer,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state"],
    // Only the provider's own claims here; signIn below decides which Chorus user this is.
    profile: (profile) => ({ id: profile.sub, name: profile.name ?? profile.preferred_username ?? null }),
  };
}

export function authOptions(): NextAuthOptions {
  const oidc = oidcSettings();
  return {
    secret: authSecret(),
    session: { strategy: "jwt", maxAge: 30 * 24 * 60 * 60 },
    // Refused single sign-ons come back to the sign-in page with ?error= naming why.
    pages: { signIn: "/sign-in", error: "/sign-in" },
    // Secure (and __Secure- named) cookies whenever the public URL is https. Decided
    // once from NEXTAUTH_URL, not per request: setting and reading must agree on the name.
    useSecureCookies: env.NEXTAUTH_URL?.startsWith("https://") ?? false,
    providers: [
      CredentialsProvider({
        name: "Username",
        credentials: {
          username: { label: "Username", type: "text" },
          password: { label: "Password", type: "password" },
        },
        // A throttled attempt throws: next-auth hands the message to the form as `error`.
        async authorize(credentials, req) {
          if (!credentials?.username || !credentials.password) return null;
          const user = await authThrottle().signIn(await getAppDb(), {
            username: credentials.username,
            password: credentials.password,
            ip: requestAddress(req?.headers),
          });
          if (!user) {
            logger.info({ domain: "auth" }, "sign-in refused");
            return null;
          }
          return { id: user.id, name: user.displayName, username: user.username, epoch: user.epoch };
        },
      }),
      ...(oidc ? [oidcProvider(oidc)] : []),
    ],
    callbacks: {
      // A single sign-on becomes a Chorus user here (linked, matched by verified email, or
      // created as the sign-up mode allows). next-auth hands this same `user` object to jwt below.
      async signIn({ user, account, profile }) {
        if (account?.provider !== OIDC_PROVIDER_ID || !oidc) return true;
        const claims = profile as OidcProfile | undefined;
        if (!claims?.sub) return false;
        try {
          const chorus = await signInWithOidc(await getAppDb(), {
            issuer: oidc.issuer,
            subject: claims.sub,
            email: claims.email,
            emailVerified: claims.email_verified === true,
            preferredUsername: claims.preferred_username,
            name: claims.name,
          });
          Object.assign(user, {
            id: chorus.id,
            name: chorus.displayName,
            username: chorus.username,
            epoch: chorus.epoch,
          });
          return true;
        } catch (error) {
          if (error instanceof AppError && error.code === "FORBIDDEN") {
            logger.info({ domain: "auth", reason: error.message }, "single sign-on refused");
            return `/sign-in?error=${ssoRefusalCode(error.message)}`;
          }
          throw error;
        }
      },
      // The epoch at sign-in rides in the token: raising the user's epoch ends the session.
      jwt({ token, user }) {
        if (user) {
          token.sub = user.id;
          token.epoch = user.epoch ?? 0;
        }
        return token;
      },
      session({ session, token }) {
        if (session.user && token.sub) {
          session.user.id = token.sub;
          session.user.epoch = typeof token.epoch === "number" ? token.epoch : 0;
        }
        return session;
      },
    },
  };
}

export type SessionUser = {
  id: string;
  name?: string | null;
  /** The session epoch its JWT carries; absent only for in-process callers (tests, the bench). */
  epoch?: number;
};

// The sign-in page shows a fixed sentence per code: a crafted link cannot put words on it.
const SSO_REFUSALS: Record<string, string> = {
  "This account has been deactivated": "Deactivated",
  "Sign-up is closed on this server": "SignUpClosed",
  "Sign-up on this server needs an invite": "InviteRequired",
};
const ssoRefusalCode = (message: string) => SSO_REFUSALS[message] ?? "AccessDenied";

/** The single sign-on button the sign-in page shows, when a provider is configured. */
export function ssoButton(): { id: string; name: string } | null {
  const oidc = oidcSettings();
  return oidc ? { id: OIDC_PROVIDER_ID, name: oidc.name } : null;
}

/** The signed-in user of the current request, or null (also when the session was ended). */
export async function getSessionUser(): Promise<SessionUser | null> {
  const session = await getServerSession(authOptions());
  if (!session?.user?.id) return null;
  const user = { id: session.user.id, name: session.user.name, epoch: session.user.epoch ?? 0 };
  return (await sessionIsCurrent(await getAppDb(), user.id, user.epoch)) ? user : null;
}
