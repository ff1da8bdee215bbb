import { redirect } from "next/navigation";
import { AuthForm } from "@/components/auth-form";
import { getSessionUser, ssoButton } from "@/server/auth/options";
import { safeNextPath } from "@/lib/safe-next";

// next-auth's and Chorus's codes for a failed sign-on, in words; anything else gets a generic sentence.
const ssoErrors: Record<string, string> = {
  AccessDenied: "Your account at the identity provider may not sign in here",
  OAuthSignin: "Could not reach the identity provider. Try again.",
  OAuthCallback: "The identity provider's answer could not be checked. Try again.",
  Callback: "Signing in with the identity provider failed. Try again.",
  Deactivated: "This account has been deactivated",
  SignUpClosed: "Sign-up is closed on this server: ask an administrator for an account",
  InviteRequired: "This server is invite-only: sign up with an invite link first",
};

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string; error?: string }>;
}) {
  const params = await searchParams;
  const next = safeNextPath(params.next);
  if (await getSessionUser()) redirect(next);
  const error =
    typeof params.error === "string" && params.error !== "CredentialsSignin"
      ? (ssoErrors[params.error] ?? "Signing in failed. Try again.")
      : undefined;
  return <AuthForm mode="sign-in" next={next} sso={ssoButton()} initialError={error} />;
}
