import { and, eq, sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import { type LinkPreviewData, linkPreviews, messages } from "@/db/schema";
import type { Db } from "@/db/types";
import { logger } from "../logger";
import { stampChange } from "../messaging/message-changes";
import { commitAndAnnounce } from "../realtime/announce";
import type { Publisher } from "../realtime/publisher";
import { fetchPreviewPage, PreviewRefused, type SafeFetchOptions } from "./fetch";
import { parsePreview } from "./parse";

const log = logger.child({ domain: "previews" });

/** A cached preview (or failure) is reused this long before the page is fetched again. */
const CACHE_HOURS = 24;

export type PreviewDeps = { publisher: Publisher; fetch?: SafeFetchOptions };

/** The preview of a URL: from the cache when fresh, else fetched (SSRF-safe) and cached; null when refused or failed. */
export async function previewFor(db: Db, url: string, options: SafeFetchOptions = {}): Promise<LinkPreviewData | null> {
  const [cached] = await queryRows<{ preview: LinkPreviewData | string | null }>(
    db,
    sql`select preview from link_previews where url = ${url} and fetched_at > now() - make_interval(hours => ${CACHE_HOURS})`,
  );
  if (cached) return typeof cached.preview === "string" ? JSON.parse(cached.preview) : cached.preview;
  let preview: LinkPreviewData | null = null;
  try {
    const page = await fetchPreviewPage(url, options);
    const parsed = parsePreview(page.html, page.url);
    // A page that says nothing about itself makes no card.
    preview = parsed.title || parsed.description ? { ...parsed, url } : null;
  } catch (error) {
    if (error instanceof PreviewRefused) log.info({ url, reason: error.reason }, "link preview refused");
    else log.info({ url, err: error }, "link preview failed");
  }
  await db
    .insert(linkPreviews)
    .values({ url, preview })
    .onConflictDoUpdate({ target: linkPreviews.url, set: { preview, fetchedAt: sql`now()` } });
  return preview;
}

/**
 * Fetches the previews of messages waiting for one (oldest first) and
 * announces each as message.updated. A message whose sender removed the
 * preview meanwhile keeps it removed.
 */
export async function processPendingPreviews(db: Db, deps: PreviewDeps, options: { limit?: number } = {}) {
  const pending = await queryRows<{ conversation_id: string; seq: number | string; id: string; link_url: string }>(
    db,
    sql`select conversation_id, seq, id::text as id, link_url from messages
        where link_state = 'pending' order by id limit ${options.limit ?? 20}`,
  );
  for (const row of pending) {
    const preview = await previewFor(db, row.link_url, deps.fetch);
    await commitAndAnnounce(db, deps.publisher, async (tx) => {
      // Locked first, as every change to an old message does, so change counts commit in order.
      await tx.execute(sql`select 1 from conversations where id = ${row.conversation_id}::uuid for update`);
      const [still] = await tx
        .select({ seq: messages.seq })
        .from(messages)
        .where(and(eq(messages.id, BigInt(row.id)), eq(messages.linkState, "pending")))
        .for("update");
      if (!still) return;
      if (!preview) {
        await tx
          .update(messages)
          .set({ linkState: "failed" })
          .where(eq(messages.id, BigInt(row.id)));
        return;
      }
      // A change like an edit: stamped with the conversation's change count, so message.changes catches it up.
      await stampChange(
        tx,
        { conversation: { id: row.conversation_id }, message: { seq: Number(row.seq) } },
        {
          set: sql`link_preview = ${JSON.stringify(preview)}::jsonb, link_state = 'ready'`,
          linkPreview: preview,
        },
      );
    });
  }
  return { processed: pending.length };
}

let wake: (() => void) | undefined;

/** Called after a send with a link commits: the worker starts at once instead of on its next poll. */
export function linkPending() {
  wake?.();
}

/** Background worker: previews are fetched right after a send commits, and every few seconds as a fallback. */
export function startPreviewWorker(db: Db, deps: PreviewDeps, options: { pollMs?: number } = {}) {
  const pollMs = options.pollMs ?? 5000;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          const { processed } = await processPendingPreviews(db, deps);
          if (processed === 20) again = true;
        } catch (error) {
          log.error({ err: error }, "link preview pass failed");
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
  };
  wake = run;
  const timer = setInterval(run, pollMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (wake === run) wake = undefined;
      await running;
    },
  };
}

/** host:port pairs of LINK_PREVIEW_ALLOW_HOSTS. */
export const allowHostsFrom = (value: string) =>
  value
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
