"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { MAX_GROUP_NAME_CHARS as GROUP_NAME_MAX } from "@/lib/limits";
import { Dialog } from "./dialog";
import { describeError } from "./error-message";
import { useTRPC } from "./trpc";
import { type PickedUser, UserPicker } from "./user-picker";
import "./dialogs.css";

type Mode = "direct" | "group";

/**
 * "New chat": pick a person to open (or reopen) a DM with, or switch to "New group" to name a
 * group and choose its members. On success `onOpened` gets the conversation id and the dialog
 * asks to close.
 */
export function NewChatDialog({
  open,
  onClose,
  onOpened,
}: {
  open: boolean;
  onClose: () => void;
  onOpened: (conversationId: string) => void;
}) {
  // Mounted only while open, so every opening starts from a clean form.
  if (!open) return null;
  return <OpenNewChatDialog onClose={onClose} onOpened={onOpened} />;
}

function OpenNewChatDialog({ onClose, onOpened }: { onClose: () => void; onOpened: (conversationId: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<Mode>("direct");
  const tabsId = useId();

  const openDm = useMutation(trpc.conversation.openDm.mutationOptions());
  const createGroup = useMutation(trpc.group.create.mutationOptions());
  const busy = openDm.isPending || createGroup.isPending;

  function switchTo(next: Mode) {
    openDm.reset();
    createGroup.reset();
    setMode(next);
  }

  async function opened(conversationId: string) {
    await queryClient.invalidateQueries(trpc.conversation.pathFilter());
    onOpened(conversationId);
    onClose();
  }

  return (
    <Dialog
      open
      onClose={onClose}
      title={mode === "direct" ? "New chat" : "New group"}
      description={
        mode === "direct"
          ? "Find someone to message."
          : "Name the group and choose who is in it. You will be its owner."
      }
      testId="new-chat-dialog"
      busy={busy}
    >
      <div
        className="mode-switch"
        role="tablist"
        aria-label="Kind of chat"
        onKeyDown={(event) => {
          if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
          event.preventDefault();
          const next = mode === "direct" ? "group" : "direct";
          switchTo(next);
          document.getElementById(`${tabsId}-${next}`)?.focus();
        }}
      >
        <button
          type="button"
          role="tab"
          id={`${tabsId}-direct`}
          aria-selected={mode === "direct"}
          tabIndex={mode === "direct" ? 0 : -1}
          aria-controls={`${tabsId}-panel`}
          onClick={() => switchTo("direct")}
          disabled={busy}
          data-testid="new-chat-mode-direct"
        >
          Direct message
        </button>
        <button
          type="button"
          role="tab"
          id={`${tabsId}-group`}
          aria-selected={mode === "group"}
          tabIndex={mode === "group" ? 0 : -1}
          aria-controls={`${tabsId}-panel`}
          onClick={() => switchTo("group")}
          disabled={busy}
          data-testid="new-chat-mode-group"
        >
          New group
        </button>
      </div>
      <div id={`${tabsId}-panel`} role="tabpanel" aria-labelledby={`${tabsId}-${mode}`}>
        {mode === "direct" ? (
          <DirectForm
            busy={busy}
            error={openDm.error ? describeError(openDm.error) : null}
            onChoose={(user) => {
              if (busy) return;
              openDm.mutate({ userId: user.id }, { onSuccess: (result) => opened(result.conversationId) });
            }}
          />
        ) : (
          <GroupForm
            busy={busy}
            error={createGroup.error ? describeError(createGroup.error) : null}
            onCreate={(name, memberIds) => {
              createGroup.mutate({ name, memberIds }, { onSuccess: (result) => opened(result.conversationId) });
            }}
          />
        )}
      </div>
    </Dialog>
  );
}

function DirectForm({
  busy,
  error,
  onChoose,
}: {
  busy: boolean;
  error: string | null;
  onChoose: (user: PickedUser) => void;
}) {
  return (
    <div className="edit-form">
      <UserPicker label="Search people" onPick={onChoose} testId="new-chat" autoFocus disabled={busy} />
      {busy && (
        <p className="status-line" role="status">
          Opening chat…
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="new-chat-error">
          {error}
        </p>
      )}
    </div>
  );
}

function GroupForm({
  busy,
  error,
  onCreate,
}: {
  busy: boolean;
  error: string | null;
  onCreate: (name: string, memberIds: string[]) => void;
}) {
  const nameId = useId();
  const hintId = useId();
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<PickedUser[]>([]);
  const [touched, setTouched] = useState(false);
  const trimmed = name.trim();
  const nameProblem =
    trimmed.length === 0
      ? "Give the group a name"
      : trimmed.length > GROUP_NAME_MAX
        ? `Keep the name within ${GROUP_NAME_MAX} characters`
        : null;
  const membersProblem = chosen.length === 0 ? "Add at least one person" : null;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched(true);
    if (nameProblem || membersProblem || busy) return;
    onCreate(
      trimmed,
      chosen.map((u) => u.id),
    );
  }

  return (
    <form className="edit-form" onSubmit={submit} noValidate>
      <label className="field" htmlFor={nameId}>
        <span className="field-row">
          <span>Group name</span>
          <span className="field-hint" aria-hidden="true">
            {trimmed.length}/{GROUP_NAME_MAX}
          </span>
        </span>
        <input
          id={nameId}
          className="text-input"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={GROUP_NAME_MAX + 20}
          required
          aria-invalid={touched && nameProblem ? true : undefined}
          aria-describedby={touched && nameProblem ? hintId : undefined}
          autoFocus
          data-autofocus
          disabled={busy}
          data-testid="new-group-name"
        />
      </label>
      {touched && nameProblem && (
        <p id={hintId} className="error" data-testid="new-group-name-error">
          {nameProblem}
        </p>
      )}
      <fieldset className="edit-form" style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="field-row" style={{ padding: 0, marginBottom: 6 }}>
          Members <span className="field-hint">{chosen.length} chosen</span>
        </legend>
        <UserPicker
          label="Add people to the group"
          placeholder="Add people by name or username"
          selected={chosen}
          onPick={(user) => setChosen((list) => (list.some((u) => u.id === user.id) ? list : [...list, user]))}
          onUnpick={(user) => setChosen((list) => list.filter((u) => u.id !== user.id))}
          testId="new-group"
          disabled={busy}
        />
        {touched && membersProblem && (
          <p className="error" data-testid="new-group-members-error">
            {membersProblem}
          </p>
        )}
      </fieldset>
      {error && (
        <p className="error" role="alert" data-testid="new-group-error">
          {error}
        </p>
      )}
      <div className="edit-actions">
        <button type="submit" className="btn" disabled={busy} data-testid="new-group-create">
          {busy ? "Creating…" : "Create group"}
        </button>
      </div>
    </form>
  );
}
