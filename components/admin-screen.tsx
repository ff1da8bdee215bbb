"use client";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { MAX_INVITE_HOURS, MAX_INVITE_USES, MAX_USER_SEARCH_CHARS } from "@/lib/limits";
import { describeError } from "./error-message";
import { useTRPC } from "./trpc";
import "./dialogs.css";
import "./settings.css";

/** The site admin's area: people, invites, health. */
export function AdminScreen({ meId }: { meId: string }) {
  return (
    <main className="settings-page" data-testid="admin-page">
      <nav className="settings-nav">
        <Link href="/">← Back to chats</Link>
        <Link href="/profile">Your profile</Link>
      </nav>
      <h1>Administration</h1>
      <InvitesSection />
      <UsersSection meId={meId} />
      <HealthSection />
    </main>
  );
}

function InvitesSection() {
  const trpc = useTRPC();
  const create = useMutation(trpc.admin.invites.create.mutationOptions());
  const url = create.data
    ? new URL(create.data.url, typeof window === "undefined" ? "http://localhost" : window.location.origin).toString()
    : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    create.mutate({ maxUses: Number(data.get("maxUses")), expiresInHours: Number(data.get("expiresInHours")) });
  }

  return (
    <section className="settings-section" aria-labelledby="invites-title">
      <h2 id="invites-title">Invite people</h2>
      <form className="settings-row" onSubmit={onSubmit}>
        <label className="field">
          Sign-ups allowed
          <input name="maxUses" type="number" min={1} max={MAX_INVITE_USES} defaultValue={10} required />
        </label>
        <label className="field">
          Valid for (hours)
          <input name="expiresInHours" type="number" min={1} max={MAX_INVITE_HOURS} defaultValue={72} required />
        </label>
        <button className="btn" type="submit" disabled={create.isPending} data-testid="create-invite">
          Create invite link
        </button>
      </form>
      {url && (
        <p className="invite-url" data-testid="invite-url">
          {url}
        </p>
      )}
      {create.error && (
        <p className="error" role="alert">
          {describeError(create.error)}
        </p>
      )}
    </section>
  );
}

function UsersSection({ meId }: { meId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [query, setQuery] = useState("");
  const [error, setError] = useState<string | null>(null);
  const list = useInfiniteQuery(
    trpc.admin.users.list.infiniteQueryOptions(
      { query: query.trim() || undefined },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.users.list.pathKey() });
  const handlers = { onSuccess: refresh, onError: (e: unknown) => setError(describeError(e)) };
  const deactivate = useMutation(trpc.admin.users.deactivate.mutationOptions(handlers));
  const reactivate = useMutation(trpc.admin.users.reactivate.mutationOptions(handlers));
  const setAdmin = useMutation(trpc.admin.users.setAdmin.mutationOptions(handlers));
  const resetPassword = useMutation(
    trpc.admin.users.resetPassword.mutationOptions({
      onSuccess: () => setError(null),
      onError: (e: unknown) => setError(describeError(e)),
    }),
  );
  const users = list.data?.pages.flatMap((page) => page.users) ?? [];

  function askNewPassword(userId: string, username: string) {
    const newPassword = window.prompt(`A new password for ${username} (at least 8 characters)`);
    if (newPassword) resetPassword.mutate({ userId, newPassword });
  }

  return (
    <section className="settings-section" aria-labelledby="users-title">
      <h2 id="users-title">People</h2>
      <input
        type="search"
        placeholder="Search by username or name"
        aria-label="Search people"
        maxLength={MAX_USER_SEARCH_CHARS}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        data-testid="admin-user-search"
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {resetPassword.isSuccess && <p role="status">Password reset. Their sessions were ended.</p>}
      <table className="admin-table">
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} data-testid="admin-user-row" data-username={user.username}>
              <td>
                <strong>{user.displayName}</strong> <span className="muted">@{user.username}</span>
                {user.isAdmin && <span className="admin-tag">admin</span>}
              </td>
              <td data-testid="admin-user-status">{user.deactivatedAt ? "Deactivated" : "Active"}</td>
              <td>
                {user.id !== meId &&
                  (user.deactivatedAt ? (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => reactivate.mutate({ userId: user.id })}
                    >
                      Reactivate
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      onClick={() => deactivate.mutate({ userId: user.id })}
                      data-testid="deactivate-user"
                    >
                      Deactivate
                    </button>
                  ))}
                <button
                  type="button"
                  className="btn btn-small btn-ghost"
                  onClick={() => askNewPassword(user.id, user.username)}
                >
                  Reset password
                </button>
                <a className="btn btn-small btn-ghost" href={`/api/export?userId=${user.id}`} download>
                  Export data
                </a>
                {user.id !== meId && !user.configuredAdmin && (
                  <button
                    type="button"
                    className="btn btn-small btn-ghost"
                    onClick={() => setAdmin.mutate({ userId: user.id, admin: !user.isAdmin })}
                  >
                    {user.isAdmin ? "Revoke admin" : "Make admin"}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.hasNextPage && (
        <button type="button" className="btn btn-ghost" onClick={() => list.fetchNextPage()}>
          Show more
        </button>
      )}
    </section>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

function HealthSection() {
  const trpc = useTRPC();
  const health = useQuery(trpc.admin.health.queryOptions(undefined, { refetchInterval: 15_000 }));
  return (
    <section className="settings-section" aria-labelledby="health-title">
      <h2 id="health-title">Health</h2>
      {health.data ? (
        <dl className="health-list" data-testid="admin-health">
          <dt>Instances</dt>
          <dd>
            {health.data.instances.length === 0
              ? "none reporting"
              : health.data.instances.map((i) => `Chorus ${i.version} (Node ${i.node})`).join(", ")}
          </dd>
          <dt>Postgres</dt>
          <dd>{health.data.postgres}</dd>
          <dt>Database size</dt>
          <dd>{formatBytes(health.data.databaseBytes)}</dd>
          <dt>Outbox backlog</dt>
          <dd>
            {health.data.outbox.pending} pending
            {health.data.outbox.oldestPendingSeconds !== null &&
              `, oldest ${health.data.outbox.oldestPendingSeconds} s`}
          </dd>
          <dt>People</dt>
          <dd>
            {health.data.users.total} ({health.data.users.deactivated} deactivated)
          </dd>
        </dl>
      ) : health.error ? (
        <p className="error" role="alert">
          {describeError(health.error)}
        </p>
      ) : null}
    </section>
  );
}
