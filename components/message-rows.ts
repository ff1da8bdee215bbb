import type { WireMessage } from "@/server/realtime/events";
import type { MessagesState, PendingMessage } from "./chat-store";
import { dayKey, dayLabel } from "./format";

// The message list's rows as a pure function of the loaded state: what the
// virtualized list renders, in order, with the keys it measures by.

export type Row =
  | { type: "older"; key: string }
  | { type: "removed"; key: string }
  | { type: "day"; key: string; label: string }
  | { type: "unread"; key: string }
  | { type: "message"; key: string; m: WireMessage; own: boolean; runStart: boolean }
  | { type: "pending"; key: string; p: PendingMessage };

// Consecutive messages from one sender within this window share one name and avatar.
const RUN_GAP_MS = 5 * 60_000;

export function buildRows(
  state: Pick<MessagesState, "items" | "hasOlder" | "pending" | "removedThroughSeq">,
  meId: string,
  firstUnreadSeq: number | null,
  loadingOlder: boolean,
  now: Date = new Date(),
): Row[] {
  const rows: Row[] = [];
  if (state.hasOlder || loadingOlder) rows.push({ type: "older", key: "older" });
  else if ((state.removedThroughSeq ?? 0) > 0) rows.push({ type: "removed", key: "removed" });
  let lastDay = "";
  let prev: WireMessage | null = null;
  for (const m of state.items) {
    const day = dayKey(m.createdAt);
    if (day !== lastDay) {
      rows.push({ type: "day", key: `day:${day}`, label: dayLabel(m.createdAt) });
      lastDay = day;
      prev = null;
    }
    if (firstUnreadSeq !== null && m.seq === firstUnreadSeq) {
      rows.push({ type: "unread", key: "unread" });
      prev = null;
    }
    const runStart =
      !prev ||
      prev.kind === "system" ||
      prev.senderId !== m.senderId ||
      // A reply or a tombstone shows its own header line.
      Boolean(m.replyTo) ||
      Date.parse(m.createdAt) - Date.parse(prev.createdAt) > RUN_GAP_MS;
    rows.push({ type: "message", key: `m:${m.seq}`, m, own: m.senderId === meId, runStart });
    prev = m;
  }
  const today = dayKey(now.toISOString());
  if (state.pending.length > 0 && lastDay !== today) {
    rows.push({ type: "day", key: `day:${today}`, label: "Today" });
  }
  for (const p of state.pending) rows.push({ type: "pending", key: `p:${p.clientMsgId}`, p });
  return rows;
}

/** A first guess of a row's height before it is measured. */
export function estimateRow(row: Row | undefined): number {
  if (!row) return 48;
  if (row.type === "day" || row.type === "unread" || row.type === "older" || row.type === "removed") return 40;
  if (row.type === "message") {
    const extras = (row.m.replyTo ? 36 : 0) + ((row.m.reactions?.length ?? 0) > 0 ? 32 : 0);
    return (row.runStart ? 64 : 44) + Math.floor(row.m.body.length / 60) * 20 + extras;
  }
  return 64;
}

export function lastSeqOf(rows: Row[]): number {
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i];
    if (r?.type === "message") return r.m.seq;
  }
  return 0;
}

/** The newest own text message not deleted: what Up arrow in an empty composer edits. */
export function lastEditable(items: WireMessage[], meId: string): WireMessage | null {
  for (let i = items.length - 1; i >= 0; i--) {
    const m = items[i];
    if (m && m.senderId === meId && m.kind === "text" && !m.deletedAt) return m;
  }
  return null;
}
