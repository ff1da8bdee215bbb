"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { NotificationSettings } from "./chat-api";
import { useChat } from "./chat-context";
import { chatKeys } from "./chat-store";
import { Dialog } from "./dialog";
import { describeError } from "./error-message";
import { type PushState, pushState, turnPushOff, turnPushOn } from "./push-client";

/** The user's notification defaults and preview choice, kept in the query cache for the page's own alerts. */
export function useNotificationSettings() {
  const { api } = useChat();
  return useQuery({
    queryKey: chatKeys.notificationSettings(),
    queryFn: () => api.notificationSettings(),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

const PUSH_STATE_TEXT: Record<PushState, string> = {
  unsupported: "This browser cannot show notifications from Chorus.",
  denied: "Notifications are blocked for this site in the browser's settings.",
  off: "Off on this device.",
  on: "On: this device is notified while Chorus is closed.",
};

/** Push on this device (permission asked only from the button), default levels, and the preview choice. */
export function NotificationSettingsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { api } = useChat();
  const qc = useQueryClient();
  const settings = useNotificationSettings();
  const [push, setPush] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    let live = true;
    pushState().then(
      (state) => live && setPush(state),
      () => live && setPush("unsupported"),
    );
    return () => {
      live = false;
    };
  }, [open]);

  async function changePush(on: boolean) {
    setBusy(true);
    setError(null);
    try {
      setPush(on ? await turnPushOn(api.push) : await turnPushOff(api.push));
    } catch (e) {
      setError(`Could not turn notifications ${on ? "on" : "off"}: ${describeError(e)}`);
      setPush(await pushState().catch(() => "unsupported" as const));
    } finally {
      setBusy(false);
    }
  }

  const key = chatKeys.notificationSettings();
  const saving = useMutation({
    mutationKey: key,
    // One save at a time, in the order they were made, so the last answer holds all of them.
    scope: { id: "notification-settings" },
    mutationFn: (change: Partial<NotificationSettings>) => api.updateNotificationSettings(change),
  });

  async function save(change: Partial<NotificationSettings>) {
    setError(null);
    // A refetch started before this change would land after it and undo it on screen. Not awaited:
    // the controlled checkbox must change in this event, or React puts it back.
    void qc.cancelQueries({ queryKey: key });
    const before = qc.getQueryData<NotificationSettings>(key);
    // Shown at once; the server's answer replaces it.
    if (before) qc.setQueryData(key, { ...before, ...change });
    try {
      const saved = await saving.mutateAsync(change);
      // An earlier save's answer would undo the choices made after it: only the last one counts.
      if (qc.isMutating({ mutationKey: key }) === 0) qc.setQueryData(key, saved);
      void qc.invalidateQueries({ queryKey: chatKeys.conversations() });
    } catch (e) {
      void qc.invalidateQueries({ queryKey: key });
      setError(describeError(e));
    }
  }

  const s = settings.data;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Notifications"
      testId="notification-settings"
      busy={busy}
      footer={
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Done
        </button>
      }
    >
      <section className="settings-section" aria-label="This device">
        <p data-testid="push-state" data-state={push ?? "loading"}>
          {push ? PUSH_STATE_TEXT[push] : "Checking this device…"}
        </p>
        {push === "off" && (
          <button
            type="button"
            className="btn"
            disabled={busy}
            onClick={() => void changePush(true)}
            data-testid="push-enable"
          >
            Turn on notifications
          </button>
        )}
        {push === "on" && (
          <button
            type="button"
            className="btn btn-ghost"
            disabled={busy}
            onClick={() => void changePush(false)}
            data-testid="push-disable"
          >
            Turn off on this device
          </button>
        )}
      </section>
      {s && (
        <>
          <label className="field">
            <span>Direct messages</span>
            <select
              value={s.dmLevel}
              onChange={(e) => void save({ dmLevel: e.target.value as NotificationSettings["dmLevel"] })}
              data-testid="default-dm-level"
            >
              <option value="all">Every message</option>
              <option value="none">Nothing</option>
            </select>
          </label>
          <label className="field">
            <span>Groups</span>
            <select
              value={s.groupLevel}
              onChange={(e) => void save({ groupLevel: e.target.value as NotificationSettings["groupLevel"] })}
              data-testid="default-group-level"
            >
              <option value="auto">Every message; mentions only above 100 members</option>
              <option value="all">Every message</option>
              <option value="mentions">Mentions only</option>
              <option value="none">Nothing</option>
            </select>
          </label>
          <label className="field-row">
            <span>Show message text in notifications</span>
            <input
              type="checkbox"
              checked={s.preview}
              onChange={(e) => void save({ preview: e.target.checked })}
              data-testid="notify-preview"
            />
          </label>
        </>
      )}
      {error && (
        <p className="error" role="alert" data-testid="notification-settings-error">
          {error}
        </p>
      )}
    </Dialog>
  );
}
