"use client";
import { useQuery } from "@tanstack/react-query";
import { signOut } from "next-auth/react";
import { useEffect } from "react";
import { useRealtime } from "./realtime";
import { useTRPC } from "./trpc";

export function AppShell() {
  const trpc = useTRPC();
  const me = useQuery(trpc.user.me.queryOptions());
  const { state } = useRealtime();

  useEffect(() => {
    document.documentElement.dataset.signedIn = "true";
    window.dispatchEvent(new Event("chorus:realtime-enable"));
  }, []);

  return (
    <div className="shell" data-testid="app-shell" data-realtime={state}>
      <header className="shell-header">
        <strong>Chorus</strong>
        <span data-testid="me-name">{me.data?.displayName}</span>
        <button className="btn btn-ghost" type="button" onClick={() => signOut({ callbackUrl: "/sign-in" })}>
          Sign out
        </button>
      </header>
      <main>
        <p className="muted" data-testid="empty-state">
          No conversations yet.
        </p>
      </main>
    </div>
  );
}
