"use client";
import { type KeyboardEvent, type ReactNode, type RefObject, useEffect, useId, useRef, useState } from "react";
import { createPortal } from "react-dom";
import "./dialogs.css";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

function focusableIn(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => el.tabIndex >= 0 && !el.closest("[inert]") && el.getClientRects().length > 0,
  );
}

// Open dialogs, innermost last: only the top one takes keys and stays interactive.
const openLayers: HTMLElement[] = [];
const INERT_MARK = "data-dialog-inert";

function applyInert() {
  const top = openLayers.at(-1);
  for (const el of Array.from(document.body.children)) {
    const shouldBeInert = top !== undefined && el !== top;
    if (shouldBeInert && !el.hasAttribute("inert")) {
      el.setAttribute("inert", "");
      el.setAttribute(INERT_MARK, "");
    } else if (!shouldBeInert && el.hasAttribute(INERT_MARK)) {
      el.removeAttribute("inert");
      el.removeAttribute(INERT_MARK);
    }
  }
  document.body.style.overflow = top ? "hidden" : "";
}

export type DialogProps = {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  children: ReactNode;
  /** Optional line under the title, also used as the accessible description. */
  description?: ReactNode;
  /** Buttons row at the bottom. */
  footer?: ReactNode;
  /** "modal" is centered; "panel" slides in from the right (details side panels). */
  variant?: "modal" | "panel";
  /** Element focused on open; defaults to the first field or button inside. */
  initialFocus?: RefObject<HTMLElement | null>;
  testId?: string;
  className?: string;
  /** Set while a request is in flight so Escape or a backdrop click cannot drop it. */
  busy?: boolean;
};

/**
 * An accessible modal: role="dialog" + aria-modal, labelled by its title, focus moved in and
 * trapped, the rest of the page made inert, Escape and a backdrop click close it, and focus
 * returns to what had it before.
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  description,
  footer,
  variant = "modal",
  initialFocus,
  testId,
  className,
  busy = false,
}: DialogProps) {
  const titleId = useId();
  const descriptionId = useId();
  const [layer, setLayer] = useState<HTMLElement | null>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const pressStartedOnBackdrop = useRef(false);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const busyRef = useRef(busy);
  busyRef.current = busy;

  useEffect(() => {
    if (!open) return;
    const restoreTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const el = document.createElement("div");
    el.className = "dlg-layer";
    document.body.appendChild(el);
    openLayers.push(el);
    applyInert();
    setLayer(el);
    return () => {
      openLayers.splice(openLayers.indexOf(el), 1);
      el.remove();
      applyInert();
      setLayer(null);
      // The opener may be gone (a removed member's row): fall back to the dialog underneath.
      if (restoreTo?.isConnected) restoreTo.focus();
      else openLayers.at(-1)?.querySelector<HTMLElement>('[role="dialog"]')?.focus();
    };
  }, [open]);

  useEffect(() => {
    const panel = panelRef.current;
    if (!layer || !panel) return;
    const target =
      initialFocus?.current ?? panel.querySelector<HTMLElement>("[data-autofocus]") ?? focusableIn(panel)[0];
    (target ?? panel).focus();
  }, [layer, initialFocus]);

  // Focus can fall to <body> when the focused control unmounts (a saved edit form):
  // Escape must still close the top dialog.
  useEffect(() => {
    if (!layer) return;
    const onDocumentKeyDown = (event: globalThis.KeyboardEvent) => {
      if (event.key !== "Escape" || openLayers.at(-1) !== layer) return;
      if (panelRef.current?.contains(document.activeElement)) return;
      event.preventDefault();
      if (!busyRef.current) onCloseRef.current();
    };
    document.addEventListener("keydown", onDocumentKeyDown);
    return () => document.removeEventListener("keydown", onDocumentKeyDown);
  }, [layer]);

  if (!open || !layer) return null;

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    // Events from nested dialogs bubble through React's tree; only the top layer reacts.
    if (openLayers.at(-1) !== layer) return;
    if (event.key === "Escape") {
      event.stopPropagation();
      event.preventDefault();
      if (!busy) onCloseRef.current();
      return;
    }
    if (event.key !== "Tab" || !panelRef.current) return;
    const items = focusableIn(panelRef.current);
    if (items.length === 0) {
      event.preventDefault();
      panelRef.current.focus();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (event.shiftKey && (active === first || active === panelRef.current)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  return createPortal(
    // biome-ignore lint/a11y/noStaticElementInteractions: the backdrop closes on click; the keyboard path is Escape
    <div
      className={`dlg-backdrop dlg-${variant}`}
      onMouseDown={(e) => {
        pressStartedOnBackdrop.current = e.target === e.currentTarget;
      }}
      onClick={(e) => {
        // Only a press that started and ended on the backdrop closes: a text selection dragged out does not.
        if (e.target === e.currentTarget && pressStartedOnBackdrop.current && !busy) onCloseRef.current();
        pressStartedOnBackdrop.current = false;
      }}
      onKeyDown={onKeyDown}
      data-testid={testId ? `${testId}-backdrop` : undefined}
    >
      <div
        ref={panelRef}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description ? descriptionId : undefined}
        aria-busy={busy || undefined}
        tabIndex={-1}
        className={`dlg${className ? ` ${className}` : ""}`}
        data-testid={testId}
      >
        <header className="dlg-header">
          <div className="dlg-heading">
            <h2 id={titleId} className="dlg-title">
              {title}
            </h2>
            {description && (
              <p id={descriptionId} className="dlg-description">
                {description}
              </p>
            )}
          </div>
          <button
            type="button"
            className="icon-btn"
            aria-label="Close"
            onClick={() => onCloseRef.current()}
            disabled={busy}
            data-testid={testId ? `${testId}-close` : "dialog-close"}
          >
            <span aria-hidden="true">×</span>
          </button>
        </header>
        <div className="dlg-body">{children}</div>
        {footer && <footer className="dlg-footer">{footer}</footer>}
      </div>
    </div>,
    layer,
  );
}

/** A yes/no question on top of whatever is open, e.g. "Leave this group?". */
export function ConfirmDialog({
  open,
  title,
  message,
  confirmLabel,
  cancelLabel = "Cancel",
  danger = false,
  pending = false,
  error,
  onConfirm,
  onCancel,
  testId = "confirm",
}: {
  open: boolean;
  title: ReactNode;
  message: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  pending?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  return (
    <Dialog
      open={open}
      onClose={onCancel}
      title={title}
      testId={testId}
      busy={pending}
      initialFocus={cancelRef}
      className="dlg-confirm"
      footer={
        <>
          <button ref={cancelRef} type="button" className="btn btn-ghost" onClick={onCancel} disabled={pending}>
            {cancelLabel}
          </button>
          <button
            type="button"
            className={`btn${danger ? " btn-danger" : ""}`}
            onClick={onConfirm}
            disabled={pending}
            data-testid={`${testId}-accept`}
          >
            {pending ? "Working…" : confirmLabel}
          </button>
        </>
      }
    >
      <p className="dlg-message">{message}</p>
      {error && (
        <p className="error" role="alert" data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
    </Dialog>
  );
}
