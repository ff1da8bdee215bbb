"use client";
import { useInfiniteQuery, useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type FormEvent, useContext, useEffect, useId, useState } from "react";
import { MAX_ANNOUNCEMENT_CHARS as ANNOUNCEMENT_MAX, MAX_GROUP_NAME_CHARS as GROUP_NAME_MAX } from "@/lib/limits";
import type { AppRouter } from "@/server/api/root";
import { conversationChannel } from "@/server/realtime/channels";
import type { RealtimeEvents } from "@/server/realtime/events";
import { Avatar, type PresenceStatus } from "./avatar";
import { ChatContext } from "./chat-context";
import { chatKeys } from "./chat-store";
import { ConfirmDialog, Dialog } from "./dialog";
import { describeError } from "./error-message";
import { permissionsFor } from "./group-permissions";
import { useRealtime } from "./realtime";
import { useTRPC } from "./trpc";
import { type PickedUser, UserPicker } from "./user-picker";
import "./dialogs.css";

type Outputs = inferRouterOutputs<AppRouter>;
type Details = Outputs["conversation"]["get"];
type MembersPage = Outputs["group"]["members"];
type GroupMember = MembersPage["items"][number];

const MEMBERS_PAGE = 50;

const roleLabels: Record<Details["me"]["role"], string> = { owner: "Owner", admin: "Admin", member: "Member" };

/**
 * The details side panel of a conversation: name, avatar, announcement, members with roles and
 * presence, and the owner/admin actions the caller is allowed (the rest are not shown at all).
 */
export function GroupInfoPanel({ conversationId, onClose }: { conversationId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const details = useQuery(trpc.conversation.get.queryOptions({ conversationId }, { retry: false }));
  const conversation = details.data;
  const title = conversation?.kind === "dm" ? "Contact info" : "Group info";

  return (
    <Dialog open onClose={onClose} title={title} variant="panel" testId="group-info">
      {details.isPending && (
        <p className="status-line" role="status">
          Loading…
        </p>
      )}
      {details.isError && <NotAvailable error={details.error} />}
      {!details.isError && conversation?.kind === "dm" && conversation.peer && (
        <div className="group-hero">
          <Avatar
            id={conversation.peer.id}
            name={conversation.peer.displayName}
            url={conversation.peer.avatarUrl}
            size={72}
          />
          <h3 className="group-hero-name">{conversation.peer.displayName}</h3>
          <p className="group-meta">@{conversation.peer.username}</p>
        </div>
      )}
      {!details.isError && conversation?.kind === "group" && (
        <GroupDetails conversation={conversation} onLeft={onClose} />
      )}
    </Dialog>
  );
}

function NotAvailable({ error }: { error: unknown }) {
  const code = (error as { data?: { code?: string } })?.data?.code;
  if (code === "FORBIDDEN") {
    return (
      <p className="notice" role="alert" data-testid="group-info-not-member">
        You are no longer a member of this group.
      </p>
    );
  }
  if (code === "NOT_FOUND") {
    return (
      <p className="notice" role="alert" data-testid="group-info-not-found">
        This conversation does not exist.
      </p>
    );
  }
  return (
    <p className="error" role="alert" data-testid="group-info-error">
      {describeError(error)}
    </p>
  );
}

/** After a change: group and conversation queries, and the chat's own conversation list. */
function useInvalidateGroup() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.group.pathFilter()),
      queryClient.invalidateQueries(trpc.conversation.pathFilter()),
      queryClient.invalidateQueries({ queryKey: chatKeys.conversations() }),
    ]);
}

function GroupDetails({ conversation, onLeft }: { conversation: Details; onLeft: () => void }) {
  const may = permissionsFor(conversation.me.role);
  const [editing, setEditing] = useState(false);
  const name = conversation.name ?? conversation.title;

  return (
    <>
      <section className="group-hero" aria-label="Group" data-testid="group-info-summary">
        <Avatar id={conversation.id} name={name} url={conversation.avatarUrl} size={72} decorative />
        <h3 className="group-hero-name" data-testid="group-info-name">
          {name}
        </h3>
        <p className="group-meta" data-testid="group-info-member-count">
          Group · {conversation.memberCount.toLocaleString()} {conversation.memberCount === 1 ? "member" : "members"}
        </p>
        {may.editInfo && !editing && (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => setEditing(true)}
            data-testid="group-edit"
          >
            Edit group info
          </button>
        )}
      </section>
      {editing ? (
        <EditGroupForm conversation={conversation} onDone={() => setEditing(false)} />
      ) : (
        <section className="panel-section" aria-labelledby="group-announcement-title">
          <h3 id="group-announcement-title">Announcement</h3>
          {conversation.announcement ? (
            <p className="announcement" data-testid="group-info-announcement">
              {conversation.announcement}
            </p>
          ) : (
            <p className="muted announcement" data-testid="group-info-announcement">
              {may.editInfo ? "No announcement yet. Use “Edit group info” to pin one." : "No announcement."}
            </p>
          )}
        </section>
      )}
      <MembersSection conversation={conversation} />
      <LeaveSection conversation={conversation} onLeft={onLeft} />
    </>
  );
}

function EditGroupForm({ conversation, onDone }: { conversation: Details; onDone: () => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateGroup();
  const ids = { name: useId(), avatar: useId(), announcement: useId() };
  const [name, setName] = useState(conversation.name ?? "");
  const [avatarUrl, setAvatarUrl] = useState(conversation.avatarUrl ?? "");
  const [announcement, setAnnouncement] = useState(conversation.announcement ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const update = useMutation(
    trpc.group.update.mutationOptions({
      onSuccess: async () => {
        await invalidate();
        onDone();
      },
    }),
  );

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setProblem(null);
    const changes: { name?: string; avatarUrl?: string | null; announcement?: string | null } = {};
    const nextName = name.trim();
    if (nextName.length === 0) return setProblem("Give the group a name");
    if (nextName.length > GROUP_NAME_MAX) return setProblem(`Keep the name within ${GROUP_NAME_MAX} characters`);
    if (nextName !== (conversation.name ?? "")) changes.name = nextName;
    const nextAvatar = avatarUrl.trim() || null;
    if (nextAvatar !== (conversation.avatarUrl ?? null)) changes.avatarUrl = nextAvatar;
    const nextAnnouncement = announcement.trim() || null;
    if (nextAnnouncement && nextAnnouncement.length > ANNOUNCEMENT_MAX) {
      return setProblem(`Keep the announcement within ${ANNOUNCEMENT_MAX} characters`);
    }
    if (nextAnnouncement !== (conversation.announcement ?? null)) changes.announcement = nextAnnouncement;
    if (Object.keys(changes).length === 0) return onDone();
    update.mutate({ conversationId: conversation.id, ...changes });
  }

  const error = problem ?? (update.error ? describeError(update.error) : null);
  return (
    <form className="panel-section edit-form" onSubmit={submit} noValidate aria-label="Edit group info">
      <label className="field" htmlFor={ids.name}>
        <span className="field-row">
          <span>Name</span>
          <span className="field-hint" aria-hidden="true">
            {name.trim().length}/{GROUP_NAME_MAX}
          </span>
        </span>
        <input
          id={ids.name}
          className="text-input"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={GROUP_NAME_MAX + 20}
          required
          data-autofocus
          autoFocus
          disabled={update.isPending}
          data-testid="group-edit-name"
        />
      </label>
      <label className="field" htmlFor={ids.avatar}>
        <span>Avatar URL</span>
        <input
          id={ids.avatar}
          className="text-input"
          type="url"
          inputMode="url"
          placeholder="https://…"
          value={avatarUrl}
          onChange={(e) => setAvatarUrl(e.target.value)}
          maxLength={2048}
          disabled={update.isPending}
          data-testid="group-edit-avatar"
        />
      </label>
      <label className="field" htmlFor={ids.announcement}>
        <span className="field-row">
          <span>Announcement</span>
          <span className="field-hint" aria-hidden="true">
            {announcement.trim().length}/{ANNOUNCEMENT_MAX}
          </span>
        </span>
        <textarea
          id={ids.announcement}
          className="text-area"
          value={announcement}
          onChange={(e) => setAnnouncement(e.target.value)}
          maxLength={ANNOUNCEMENT_MAX + 200}
          rows={4}
          disabled={update.isPending}
          data-testid="group-edit-announcement"
        />
      </label>
      {error && (
        <p className="error" role="alert" data-testid="group-edit-error">
          {error}
        </p>
      )}
      <div className="edit-actions">
        <button type="button" className="btn btn-ghost" onClick={onDone} disabled={update.isPending}>
          Cancel
        </button>
        <button type="submit" className="btn" disabled={update.isPending} data-testid="group-edit-save">
          {update.isPending ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

type PendingConfirm = { kind: "remove" | "transfer"; member: GroupMember };

function MembersSection({ conversation }: { conversation: Details }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateGroup();
  const may = permissionsFor(conversation.me.role);
  const [adding, setAdding] = useState(false);
  const [confirm, setConfirm] = useState<PendingConfirm | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const me = useQuery(trpc.user.me.queryOptions());
  const groupName = conversation.name ?? conversation.title;

  const membersQuery = useInfiniteQuery(
    trpc.group.members.infiniteQueryOptions(
      { conversationId: conversation.id, limit: MEMBERS_PAGE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const memberList = membersQuery.data?.pages.flatMap((page) => page.items) ?? [];
  const presence = usePresence(
    conversation.id,
    memberList.map((m) => m.userId),
  );

  const setRole = useMutation(
    trpc.group.setRole.mutationOptions({
      onMutate: () => setActionError(null),
      onSuccess: async () => {
        await invalidate();
        setConfirm(null);
      },
      onError: (error) => {
        if (!confirm) setActionError(describeError(error));
      },
    }),
  );
  const removeMember = useMutation(
    trpc.group.removeMember.mutationOptions({
      onSuccess: async () => {
        await invalidate();
        setConfirm(null);
      },
    }),
  );
  const confirmMutation = confirm?.kind === "transfer" ? setRole : removeMember;

  function changeRole(member: GroupMember, role: GroupMember["role"]) {
    setRole.mutate({ conversationId: conversation.id, userId: member.userId, role });
  }

  return (
    <section className="panel-section" aria-labelledby="group-members-title" data-testid="group-members">
      <div className="field-row">
        <h3 id="group-members-title">Members · {conversation.memberCount.toLocaleString()}</h3>
        {may.addMembers && !adding && (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => setAdding(true)}
            data-testid="group-add-members"
          >
            Add members
          </button>
        )}
      </div>
      {adding && (
        <AddMembersForm
          conversationId={conversation.id}
          isMember={(id) => memberList.some((m) => m.userId === id)}
          onDone={() => setAdding(false)}
        />
      )}
      {actionError && (
        <p className="error" role="alert" data-testid="group-member-error">
          {actionError}
        </p>
      )}
      {membersQuery.isError && (
        <p className="error" role="alert">
          {describeError(membersQuery.error)}
        </p>
      )}
      <ul className="member-list" aria-label="Members">
        {memberList.map((member) => {
          const isMe = member.userId === me.data?.id;
          const actions: MemberAction[] = [];
          if (isMe) {
            if (member.role === "admin") {
              actions.push({
                label: "Step down as admin",
                testId: "group-member-step-down",
                run: () => changeRole(member, "member"),
              });
            }
          } else {
            if (may.setRoles && member.role === "member") {
              actions.push({
                label: "Make admin",
                testId: "group-member-make-admin",
                run: () => changeRole(member, "admin"),
              });
            }
            if (may.setRoles && member.role === "admin") {
              actions.push({
                label: "Dismiss as admin",
                testId: "group-member-unadmin",
                run: () => changeRole(member, "member"),
              });
            }
            if (may.setRoles && member.role !== "owner") {
              actions.push({
                label: "Make group owner",
                testId: "group-member-make-owner",
                run: () => {
                  setRole.reset();
                  setConfirm({ kind: "transfer", member });
                },
              });
            }
            if (may.remove(member.role)) {
              actions.push({
                label: "Remove from group",
                testId: "group-member-remove",
                danger: true,
                run: () => {
                  removeMember.reset();
                  setConfirm({ kind: "remove", member });
                },
              });
            }
          }
          const busy =
            (setRole.isPending && setRole.variables?.userId === member.userId) ||
            (removeMember.isPending && removeMember.variables?.userId === member.userId);
          return (
            <MemberRow
              key={member.userId}
              member={member}
              isMe={isMe}
              presence={presence.get(member.userId) ?? null}
              actions={actions}
              busy={busy}
            />
          );
        })}
      </ul>
      {membersQuery.hasNextPage && (
        <button
          type="button"
          className="btn btn-ghost btn-small"
          onClick={() => membersQuery.fetchNextPage()}
          disabled={membersQuery.isFetchingNextPage}
          data-testid="group-members-more"
        >
          {membersQuery.isFetchingNextPage ? "Loading…" : "Show more members"}
        </button>
      )}
      <ConfirmDialog
        open={confirm !== null}
        title={confirm?.kind === "transfer" ? "Make group owner?" : "Remove member?"}
        message={
          confirm?.kind === "transfer"
            ? `${confirm.member.displayName} will own “${groupName}”. You will stay in the group as an admin.`
            : `${confirm?.member.displayName ?? ""} will be removed from “${groupName}” and will no longer see new messages.`
        }
        confirmLabel={confirm?.kind === "transfer" ? "Make owner" : "Remove"}
        danger={confirm?.kind !== "transfer"}
        pending={confirmMutation.isPending}
        error={confirmMutation.error ? describeError(confirmMutation.error) : null}
        onConfirm={() => {
          if (!confirm) return;
          if (confirm.kind === "transfer") changeRole(confirm.member, "owner");
          else removeMember.mutate({ conversationId: conversation.id, userId: confirm.member.userId });
        }}
        onCancel={() => setConfirm(null)}
        testId={confirm?.kind === "transfer" ? "transfer-owner-confirm" : "remove-member-confirm"}
      />
    </section>
  );
}

type MemberAction = { label: string; testId: string; run: () => void; danger?: boolean };

function MemberRow({
  member,
  isMe,
  presence,
  actions,
  busy,
}: {
  member: GroupMember;
  isMe: boolean;
  presence: PresenceStatus | null;
  actions: MemberAction[];
  busy: boolean;
}) {
  const [open, setOpen] = useState(false);
  const actionsId = useId();
  return (
    <li className="member-row" data-testid="group-member" data-user-id={member.userId} data-role={member.role}>
      <div className="member-main">
        <Avatar id={member.userId} name={member.displayName} url={member.avatarUrl} size={34} presence={presence} />
        <span className="user-text">
          <span className="user-name" data-testid="group-member-name">
            {member.displayName}
            {isMe && <span className="muted"> (you)</span>}
          </span>
          <span className="user-handle">@{member.username}</span>
        </span>
        {member.role !== "member" && (
          <span className="role-badge" data-role={member.role} data-testid="group-member-role">
            {roleLabels[member.role]}
          </span>
        )}
        {actions.length > 0 && (
          <button
            type="button"
            className="icon-btn member-manage"
            aria-expanded={open}
            aria-controls={actionsId}
            aria-label={`Manage ${member.displayName}`}
            onClick={() => setOpen((v) => !v)}
            data-testid="group-member-manage"
          >
            <span aria-hidden="true">⋯</span>
          </button>
        )}
      </div>
      {open && actions.length > 0 && (
        // biome-ignore lint/a11y/useSemanticElements: a labelled group of buttons, not a fieldset of inputs
        <div id={actionsId} className="member-actions" role="group" aria-label={`Manage ${member.displayName}`}>
          {actions.map((action) => (
            <button
              key={action.testId}
              type="button"
              className={`btn btn-small ${action.danger ? "btn-danger" : "btn-ghost"}`}
              disabled={busy}
              onClick={action.run}
              data-testid={action.testId}
            >
              {action.label}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}

function AddMembersForm({
  conversationId,
  isMember,
  onDone,
}: {
  conversationId: string;
  isMember: (userId: string) => boolean;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const invalidate = useInvalidateGroup();
  const [chosen, setChosen] = useState<PickedUser[]>([]);
  const add = useMutation(
    trpc.group.addMembers.mutationOptions({
      onSuccess: async () => {
        await invalidate();
        onDone();
      },
    }),
  );

  return (
    <div className="edit-form notice" data-testid="group-add-form">
      <UserPicker
        label="Find people to add"
        placeholder="Add people by name or username"
        selected={chosen}
        onPick={(user) => setChosen((list) => (list.some((u) => u.id === user.id) ? list : [...list, user]))}
        onUnpick={(user) => setChosen((list) => list.filter((u) => u.id !== user.id))}
        unavailable={(id) => (isMember(id) ? "Already in the group" : null)}
        testId="group-add"
        autoFocus
        disabled={add.isPending}
      />
      {add.error && (
        <p className="error" role="alert" data-testid="group-add-error">
          {describeError(add.error)}
        </p>
      )}
      <div className="edit-actions">
        <button type="button" className="btn btn-ghost" onClick={onDone} disabled={add.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="btn"
          disabled={add.isPending || chosen.length === 0}
          onClick={() => add.mutate({ conversationId, userIds: chosen.map((u) => u.id) })}
          data-testid="group-add-submit"
        >
          {add.isPending ? "Adding…" : chosen.length > 1 ? `Add ${chosen.length} people` : "Add"}
        </button>
      </div>
    </div>
  );
}

function LeaveSection({ conversation, onLeft }: { conversation: Details; onLeft: () => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateGroup();
  const chat = useContext(ChatContext);
  const [confirming, setConfirming] = useState(false);
  const leave = useMutation(
    trpc.group.leave.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await invalidate();
        onLeft();
        // Back to the list, as chat apps do after leaving; outside the chat there is nowhere to go.
        chat?.navigate(null);
      },
    }),
  );
  const ownerNote =
    conversation.me.role === "owner" && conversation.memberCount > 1
      ? " Ownership passes to the longest-standing admin, or member if there is no admin."
      : "";

  return (
    <section className="panel-section">
      <button
        type="button"
        className="btn btn-danger"
        onClick={() => {
          leave.reset();
          setConfirming(true);
        }}
        data-testid="group-leave"
      >
        Leave group
      </button>
      <ConfirmDialog
        open={confirming}
        title="Leave this group?"
        message={`You will stop receiving messages from “${conversation.name ?? conversation.title}”.${ownerNote}`}
        confirmLabel="Leave"
        danger
        pending={leave.isPending}
        error={leave.error ? describeError(leave.error) : null}
        onConfirm={() => leave.mutate({ conversationId: conversation.id })}
        onCancel={() => setConfirming(false)}
        testId="leave-confirm"
      />
    </section>
  );
}

const PRESENCE_BATCH = 200;

/**
 * Presence of the listed members: asked for in batches, then kept current by the `presence`
 * events of the conversation channel the chat already subscribes to.
 */
function usePresence(conversationId: string, userIds: string[]): Map<string, PresenceStatus> {
  const trpc = useTRPC();
  const { pusher } = useRealtime();
  const [live, setLive] = useState<Map<string, PresenceStatus>>(() => new Map());
  const batches: string[][] = [];
  for (let i = 0; i < userIds.length; i += PRESENCE_BATCH) batches.push(userIds.slice(i, i + PRESENCE_BATCH));
  const fetched = useQueries({
    queries: batches.map((ids) => trpc.presence.get.queryOptions({ userIds: ids }, { staleTime: 30_000 })),
  });

  useEffect(() => {
    const channel = pusher?.channel(conversationChannel(conversationId));
    if (!channel) return;
    const onPresence = (event: RealtimeEvents["presence"]) =>
      setLive((current) => new Map(current).set(event.userId, event.status));
    channel.bind("presence", onPresence);
    return () => {
      channel.unbind("presence", onPresence);
    };
  }, [pusher, conversationId]);

  const statuses = new Map<string, PresenceStatus>();
  for (const result of fetched) for (const p of result.data ?? []) statuses.set(p.userId, p.status);
  for (const [userId, status] of live) statuses.set(userId, status);
  return statuses;
}
