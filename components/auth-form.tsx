"use client";
import { useMutation } from "@tanstack/react-query";
import { signIn } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useState } from "react";
import { safeNextPath } from "@/lib/safe-next";
import { MAX_DISPLAY_NAME_CHARS, MAX_USERNAME_CHARS, MIN_USERNAME_CHARS } from "@/lib/limits";
import { useTRPC } from "./trpc";

type Mode = "sign-in" | "sign-up";

export type AuthFormProps = {
  mode: Mode;
  next?: string;
  /** How this server lets people sign up (read on the server, per request). */
  signUpMode?: "open" | "invite" | "closed";
  /** An invite code from the link that brought the person here. */
  inviteCode?: string;
  /** Single sign-on, when the server has an OpenID provider: its button label. */
  sso?: { id: string; name: string } | null;
  /** Why the last single sign-on was refused (shown as text, never markup). */
  initialError?: string;
};

export function AuthForm({ mode, next = "/", signUpMode = "open", inviteCode, sso, initialError }: AuthFormProps) {
  const trpc = useTRPC();
  const router = useRouter();
  const [error, setError] = useState<string | null>(initialError ?? null);
  const [pending, setPending] = useState(false);
  // Until React has hydrated, a click would submit the form natively and lose the input.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const register = useMutation(trpc.auth.register.mutationOptions());

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setPending(true);
    const form = new FormData(event.currentTarget);
    const username = String(form.get("username") ?? "");
    const password = String(form.get("password") ?? "");
    try {
      if (mode === "sign-up") {
        const invite = String(form.get("inviteCode") ?? "").trim();
        await register.mutateAsync({
          username,
          password,
          displayName: String(form.get("displayName") ?? ""),
          ...(invite ? { inviteCode: invite } : {}),
        });
      }
      const result = await signIn("credentials", { username, password, redirect: false });
      if (!result || result.error) {
        // A throttled sign-in says so (next-auth passes authorize's error through); anything else is kept vague.
        setError(result?.error?.startsWith("Too many attempts") ? result.error : "Wrong username or password");
        return;
      }
      // The page sanitised `next` already; checked again so this form is safe on its own.
      router.replace(safeNextPath(next));
      router.refresh();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setPending(false);
    }
  }

  const isSignUp = mode === "sign-up";
  return (
    <main className="auth-page">
      <form className="auth-card" onSubmit={onSubmit} aria-labelledby="auth-title" data-testid={`${mode}-form`}>
        <h1 id="auth-title">{isSignUp ? "Create your Chorus account" : "Sign in to Chorus"}</h1>
        <label className="field">
          Username
          <input
            name="username"
            autoComplete="username"
            required
            minLength={MIN_USERNAME_CHARS}
            maxLength={MAX_USERNAME_CHARS}
            autoFocus
          />
        </label>
        {isSignUp && (
          <label className="field">
            Display name
            <input name="displayName" autoComplete="name" required maxLength={MAX_DISPLAY_NAME_CHARS} />
          </label>
        )}
        <label className="field">
          Password
          <input
            name="password"
            type="password"
            autoComplete={isSignUp ? "new-password" : "current-password"}
            required
            minLength={8}
          />
        </label>
        {isSignUp && (signUpMode === "invite" || inviteCode) && (
          <label className="field">
            Invite code
            <input name="inviteCode" defaultValue={inviteCode} autoComplete="off" data-testid="invite-code" />
          </label>
        )}
        {isSignUp && signUpMode === "invite" && !inviteCode && (
          <p className="muted">This server is invite-only: paste the code from your invite link.</p>
        )}
        {isSignUp && signUpMode === "closed" && (
          <p className="muted" data-testid="sign-up-closed">
            Sign-up is closed on this server. Ask an administrator for an account.
          </p>
        )}
        {error && (
          <p className="error" role="alert" data-testid="auth-error">
            {error}
          </p>
        )}
        <button className="btn" type="submit" disabled={pending || !hydrated}>
          {isSignUp ? "Sign up" : "Sign in"}
        </button>
        {!isSignUp && sso && (
          <button
            className="btn btn-ghost"
            type="button"
            disabled={!hydrated}
            onClick={() => void signIn(sso.id, { callbackUrl: safeNextPath(next) })}
            data-testid="sso-sign-in"
          >
            Sign in with {sso.name}
          </button>
        )}
        <p className="muted">
          {isSignUp ? (
            <>
              Have an account?{" "}
              <Link href={next === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`}>Sign in</Link>
            </>
          ) : (
            <>
              New here?{" "}
              <Link href={next === "/" ? "/sign-up" : `/sign-up?next=${encodeURIComponent(next)}`}>
                Create an account
              </Link>
            </>
          )}
        </p>
      </form>
    </main>
  );
}

function errorMessage(e: unknown): string {
  if (e && typeof e === "object" && "data" in e) {
    const data = (e as { data?: { zodError?: { fieldErrors?: Record<string, string[]> } } }).data;
    const first = Object.values(data?.zodError?.fieldErrors ?? {})[0]?.[0];
    if (first) return first;
  }
  return e instanceof Error ? e.message : "Something went wrong";
}
