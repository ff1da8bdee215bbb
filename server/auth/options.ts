import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getServerSession } from "next-auth";
import { authSecret } from "../config/secrets";
import { env } from "../env";
import { getAppDb } from "../db";
import { logger } from "../logger";
import { sessionIsCurrent } from "./standing";
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
          return { id: user.id, name: user.displayName, username: user.username, epoch: user.epoch };
        },
      }),
    ],
    callbacks: {
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

/** The signed-in user of the current request, or null (also when the session was ended). */
export async function getSessionUser(): Promise<SessionUser | null> {
  const session = await getServerSession(authOptions());
  if (!session?.user?.id) return null;
  const user = { id: session.user.id, name: session.user.name, epoch: session.user.epoch ?? 0 };
  return (await sessionIsCurrent(await getAppDb(), user.id, user.epoch)) ? user : null;
}
