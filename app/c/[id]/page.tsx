import { redirect } from "next/navigation";
import { AppShell } from "@/components/app-shell";
import { getSessionUser } from "@/server/auth/options";

// The shell reads the conversation id from the URL itself, so switching chats never remounts it.
export default async function ConversationPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!(await getSessionUser())) redirect(`/sign-in?next=${encodeURIComponent(`/c/${id}`)}`);
  return <AppShell />;
}
