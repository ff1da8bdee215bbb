import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getServerSession } from "next-auth";
import { authSecret } from "../config/secrets";
import { env } from "../env";
import { getAppDb } from "../db";
import { logger } from "../logger";
import { authThrottle, requestAddress } from "./throttle";

export function authOptions(): NextAuthOptions {
  return {
    secret: authSecret(),
    session: { strategy: "jwt", maxAge: 30 * 24 * 60 * 60 },
    pages: { signIn: "/sign-in" },
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
          return { id: user.id, name: user.displayName, username: user.username };
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) token.sub = user.id;
        return token;
      },
      session({ session, token }) {
        if (session.user && token.sub) session.user.id = token.sub;
        return session;
      },
    },
  };
}

export type SessionUser = { id: string; name?: string | null };

/** The signed-in user of the current request, or null. */
export async function getSessionUser(): Promise<SessionUser | null> {
  const session = await getServerSession(authOptions());
  return session?.user?.id ? { id: session.user.id, name: session.user.name } : null;
}
