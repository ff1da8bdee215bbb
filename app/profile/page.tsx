import { redirect } from "next/navigation";
import { ProfileScreen } from "@/components/profile-screen";
import { isAdminUser } from "@/server/admin/admins";
import { getSessionUser } from "@/server/auth/options";
import { getAppDb } from "@/server/db";

export default async function ProfilePage() {
  const user = await getSessionUser();
  if (!user) redirect("/sign-in?next=%2Fprofile");
  return <ProfileScreen isAdmin={await isAdminUser(await getAppDb(), user.id)} />;
}
