"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { signIn, signOut } from "next-auth/react";
import Link from "next/link";
import { type ChangeEvent, type FormEvent, useState } from "react";
import { MAX_DISPLAY_NAME_CHARS } from "@/lib/limits";
import { Avatar } from "./avatar";
import { describeError } from "./error-message";
import { shrinkForUpload } from "./shrink-image";
import { useTRPC } from "./trpc";
import "./settings.css";

/** The signed-in person's own settings: name, picture, password, sessions. */
export function ProfileScreen({ isAdmin }: { isAdmin: boolean }) {
  const trpc = useTRPC();
  const me = useQuery(trpc.user.me.queryOptions());
  if (!me.data) {
    return <main className="settings-page">{me.error ? <p role="alert">{describeError(me.error)}</p> : null}</main>;
  }
  return (
    <main className="settings-page" data-testid="profile-page">
      <nav className="settings-nav">
        <Link href="/">← Back to chats</Link>
        {isAdmin && <Link href="/admin">Administration</Link>}
      </nav>
      <h1>Your profile</h1>
      <PictureSection user={me.data} />
      <NameSection displayName={me.data.displayName} />
      <PasswordSection username={me.data.username} />
      <SessionsSection />
      <section className="settings-section" aria-labelledby="export-title">
        <h2 id="export-title">Your data</h2>
        <p className="muted">A zip of JSON files: your profile, your conversations and the messages you can see.</p>
        <a className="btn btn-ghost" href="/api/export" download data-testid="export-data">
          Download your data
        </a>
      </section>
    </main>
  );
}

type Me = { id: string; username: string; displayName: string; avatarUrl: string | null };

function useMeUpdated() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return (user: Me) => queryClient.setQueryData(trpc.user.me.queryKey(), user);
}

function PictureSection({ user }: { user: Me }) {
  const trpc = useTRPC();
  const updated = useMeUpdated();
  const [error, setError] = useState<string | null>(null);
  const setAvatar = useMutation(trpc.user.setAvatar.mutationOptions({ onSuccess: updated }));

  async function onFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    setError(null);
    try {
      await setAvatar.mutateAsync({ image: await shrinkForUpload(file) });
    } catch (e) {
      setError(describeError(e));
    }
  }

  return (
    <section className="settings-section" aria-labelledby="picture-title">
      <h2 id="picture-title">Picture</h2>
      <div className="settings-row">
        <Avatar id={user.id} name={user.displayName} url={user.avatarUrl} size={72} />
        <label className="btn btn-small">
          {user.avatarUrl ? "Change picture" : "Upload a picture"}
          <input
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif,image/avif"
            className="sr-only"
            onChange={onFile}
            data-testid="avatar-input"
            disabled={setAvatar.isPending}
          />
        </label>
        {user.avatarUrl && (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => setAvatar.mutate({ image: null })}
            disabled={setAvatar.isPending}
          >
            Remove
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function NameSection({ displayName }: { displayName: string }) {
  const trpc = useTRPC();
  const updated = useMeUpdated();
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.user.updateProfile.mutationOptions({
      onSuccess: (user) => {
        updated(user);
        setSaved(true);
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    update.mutate({ displayName: String(new FormData(event.currentTarget).get("displayName") ?? "") });
  }

  return (
    <section className="settings-section" aria-labelledby="name-title">
      <h2 id="name-title">Name</h2>
      <form className="settings-form" onSubmit={onSubmit}>
        <label className="field">
          Display name
          <input name="displayName" defaultValue={displayName} required maxLength={MAX_DISPLAY_NAME_CHARS} />
        </label>
        <button className="btn" type="submit" disabled={update.isPending}>
          Save name
        </button>
        {saved && <p role="status">Saved.</p>}
        {update.error && (
          <p className="error" role="alert">
            {describeError(update.error)}
          </p>
        )}
      </form>
    </section>
  );
}

function PasswordSection({ username }: { username: string }) {
  const trpc = useTRPC();
  const [status, setStatus] = useState<{ error?: string; done?: boolean }>({});
  const change = useMutation(trpc.auth.changePassword.mutationOptions());

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const currentPassword = String(data.get("currentPassword") ?? "");
    const newPassword = String(data.get("newPassword") ?? "");
    if (newPassword !== String(data.get("confirmPassword") ?? "")) {
      setStatus({ error: "The new passwords do not match" });
      return;
    }
    setStatus({});
    try {
      await change.mutateAsync({ currentPassword, newPassword });
    } catch (e) {
      setStatus({ error: describeError(e) });
      return;
    }
    // Every session ended with the change, this one too: sign this browser in again with the new password.
    const result = await signIn("credentials", { username, password: newPassword, redirect: false });
    if (!result || result.error) {
      window.location.assign("/sign-in");
      return;
    }
    form.reset();
    setStatus({ done: true });
  }

  return (
    <section className="settings-section" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form className="settings-form" onSubmit={onSubmit} data-testid="password-form">
        <label className="field">
          Current password
          <input name="currentPassword" type="password" autoComplete="current-password" required />
        </label>
        <label className="field">
          New password
          <input name="newPassword" type="password" autoComplete="new-password" required minLength={8} />
        </label>
        <label className="field">
          Repeat the new password
          <input name="confirmPassword" type="password" autoComplete="new-password" required minLength={8} />
        </label>
        <button className="btn" type="submit" disabled={change.isPending}>
          Change password
        </button>
        {status.done && <p role="status">Password changed. Your other devices are signed out.</p>}
        {status.error && (
          <p className="error" role="alert">
            {status.error}
          </p>
        )}
      </form>
    </section>
  );
}

function SessionsSection() {
  const trpc = useTRPC();
  const end = useMutation(
    trpc.auth.signOutEverywhere.mutationOptions({ onSuccess: () => signOut({ callbackUrl: "/sign-in" }) }),
  );
  return (
    <section className="settings-section" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p className="muted">Signs you out on every device and browser, this one included, within a few seconds.</p>
      <button
        type="button"
        className="btn btn-danger"
        onClick={() => end.mutate()}
        disabled={end.isPending}
        data-testid="sign-out-everywhere"
      >
        Sign out everywhere
      </button>
      {end.error && (
        <p className="error" role="alert">
          {describeError(end.error)}
        </p>
      )}
    </section>
  );
}
