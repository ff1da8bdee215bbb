import { redirect } from "next/navigation";
import { AuthForm } from "@/components/auth-form";
import { signUpPolicy } from "@/server/auth/accounts";
import { getSessionUser } from "@/server/auth/options";
import { safeNextPath } from "@/lib/safe-next";

export default async function SignUpPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string; invite?: string }>;
}) {
  const params = await searchParams;
  const next = safeNextPath(params.next);
  if (await getSessionUser()) redirect(next);
  const invite =
    typeof params.invite === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(params.invite) ? params.invite : undefined;
  return <AuthForm mode="sign-up" next={next} signUpMode={signUpPolicy().mode} inviteCode={invite} />;
}
