import { notFound, redirect } from "next/navigation";
import { AdminScreen } from "@/components/admin-screen";
import { isAdminUser } from "@/server/admin/admins";
import { getSessionUser } from "@/server/auth/options";
import { getAppDb } from "@/server/db";

export default async function AdminPage() {
  const user = await getSessionUser();
  if (!user) redirect("/sign-in?next=%2Fadmin");
  // Not told the area exists: the API refuses every call anyway.
  if (!(await isAdminUser(await getAppDb(), user.id))) notFound();
  return <AdminScreen meId={user.id} />;
}
