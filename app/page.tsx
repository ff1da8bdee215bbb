import { redirect } from "next/navigation";
import { AppShell } from "@/components/app-shell";
import { getSessionUser } from "@/server/auth/options";

export default async function HomePage() {
  const user = await getSessionUser();
  if (!user) redirect("/sign-in");
  return <AppShell />;
}
