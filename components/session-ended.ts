import type { TRPCLink } from "@trpc/client";
import type { AnyRouter } from "@trpc/server";
import { observable } from "@trpc/server/observable";

/** Whether a tRPC error says the session is gone (signed out everywhere, a new password, deactivated). */
export function isSessionEnded(error: unknown): boolean {
  const data = (error as { data?: { code?: unknown } } | null)?.data;
  return data?.code === "UNAUTHORIZED";
}

const SIGNED_OUT_PAGES = ["/sign-in", "/sign-up"];

/**
 * Sends the browser to sign in once its session has ended, keeping the page
 * it was on; pages that are for signed-out people are left alone.
 */
export function leaveEndedSession(error: unknown): void {
  if (typeof window === "undefined" || !isSessionEnded(error)) return;
  const { pathname, search } = window.location;
  if (SIGNED_OUT_PAGES.includes(pathname)) return;
  const next = `${pathname}${search}`;
  window.location.assign(next === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`);
}

/**
 * A tRPC link that watches every answer, whoever made the call (queries,
 * mutations, the chat client's direct calls): a session ended elsewhere
 * (sign out everywhere, a new password, a deactivation) sends the tab to sign in.
 */
export function endedSessionLink<TRouter extends AnyRouter>(): TRPCLink<TRouter> {
  return () =>
    ({ next, op }) =>
      observable((observer) =>
        next(op).subscribe({
          next: (value) => observer.next(value),
          error: (error) => {
            leaveEndedSession(error);
            observer.error(error);
          },
          complete: () => observer.complete(),
        }),
      );
}
