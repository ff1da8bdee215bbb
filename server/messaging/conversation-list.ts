import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";
import type { PublicUser } from "../auth/accounts";
import { AppError } from "../errors";
import type { NotifyLevel } from "@/db/schema";
import { effectiveLevelSql, type NotificationState, notificationState } from "../notifications/levels";
import { mentionCounts, unreadSql } from "./unread";

export const listConversationsInput = z.object({
  cursor: z.string().max(200).nullish(),
  limit: z.number().int().min(1, "limit must be 1-100").max(100, "limit must be 1-100").default(30),
});

export type ListConversationsInput = z.input<typeof listConversationsInput>;

export type ConversationListItem = {
  id: string;
  kind: "dm" | "group";
  /** Group name; null for a DM (show the peer). */
  name: string | null;
  avatarUrl: string | null;
  lastSeq: number;
  lastMessageAt: string | null;
  lastMessagePreview: string | null;
  lastMessageSender: { id: string; displayName: string } | null;
  memberCount: number;
  /** Notification level none: the badge is grey and out of the title count. */
  muted: boolean;
  notifications: NotificationState;
  readSeq: number;
  /** last_seq - max(read_seq, joined_seq), tombstones left out (DESIGN invariant 3). */
  unread: number;
  /** Unread @mentions of me, @all included. */
  mentions: number;
  /** The other person of a DM. */
  peer: PublicUser | null;
};

export type ConversationListPage = { items: ConversationListItem[]; nextCursor: string | null };

type Row = {
  id: string;
  kind: "dm" | "group";
  name: string | null;
  avatar_url: string | null;
  last_seq: string | number;
  last_message_at: string | Date | null;
  last_message_preview: string | null;
  sender_id: string | null;
  sender_name: string | null;
  member_count: number;
  level: NotifyLevel;
  level_set: NotifyLevel | null;
  snooze_until: string | Date | null;
  read_seq: string | number;
  unread: string | number;
  peer_id: string | null;
  peer_username: string | null;
  peer_name: string | null;
  peer_avatar_url: string | null;
  // Keyset cursor parts, as Postgres text so microseconds survive the round trip.
  activity_at_text: string;
};

// The cursor is the last item's (activity time, id); activity = last message, or creation for a quiet conversation.
type Cursor = { at: string; id: string };

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");

// What Postgres prints for a timestamptz and a uuid: anything else was not made by encodeCursor.
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Cursor;
    if (typeof c.at === "string" && typeof c.id === "string" && PG_TIMESTAMP.test(c.at) && UUID.test(c.id)) return c;
  } catch {
    // Not base64 JSON: refused below like any other foreign cursor.
  }
  throw new AppError("BAD_REQUEST", "Invalid cursor");
}

/**
 * The user's current conversations, most recent activity first. One query
 * driven by the user's member rows; a message updates only its conversation
 * row, so nothing here is per-member state written on send (invariant 5).
 */
export async function listConversations(
  db: DbOrTx,
  userId: string,
  input: ListConversationsInput,
): Promise<ConversationListPage> {
  const { cursor, limit } = listConversationsInput.parse(input);
  const after = cursor ? decodeCursor(cursor) : null;
  const activity = sql`coalesce(c.last_message_at, c.created_at)`;

  const rows = await queryRows<Row>(
    db,
    sql`
    select
      c.id, c.kind, c.name, c.avatar_url, c.last_seq, c.last_message_at, c.last_message_preview,
      c.member_count, ${effectiveLevelSql(sql.raw("m"), sql.raw("c"), sql.raw("me"))} as level,
      m.notify_level as level_set, m.snooze_until, m.read_seq,
      ${unreadSql} as unread,
      sender.id as sender_id, sender.display_name as sender_name,
      peer.id as peer_id, peer.username as peer_username, peer.display_name as peer_name,
      peer.avatar_url as peer_avatar_url,
      ${activity}::text as activity_at_text
    from members m
    join conversations c on c.id = m.conversation_id
    join users me on me.id = m.user_id
    left join users sender on sender.id = c.last_message_sender_id
    left join lateral (
      select u.id, u.username, u.display_name, u.avatar_url
      from members pm join users u on u.id = pm.user_id
      where c.kind = 'dm' and pm.conversation_id = c.id and pm.user_id <> m.user_id
      limit 1
    ) peer on true
    where m.user_id = ${userId} and m.left_at is null and c.archived_at is null
      ${after ? sql`and (${activity}, c.id) < (${after.at}::timestamptz, ${after.id}::uuid)` : sql``}
    order by ${activity} desc, c.id desc
    limit ${limit + 1}`,
  );

  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const ids = page.map((r) => r.id);
  const mentions = await mentionCounts(db, userId, ids);
  return {
    items: page.map((r) => ({ ...toItem(r), mentions: mentions.get(r.id) ?? 0 })),
    nextCursor: rows.length > limit && last ? encodeCursor({ at: last.activity_at_text, id: last.id }) : null,
  };
}

function toItem(r: Row): Omit<ConversationListItem, "mentions"> {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    avatarUrl: r.avatar_url,
    lastSeq: Number(r.last_seq),
    lastMessageAt: r.last_message_at ? new Date(r.last_message_at).toISOString() : null,
    lastMessagePreview: r.last_message_preview,
    lastMessageSender: r.sender_id ? { id: r.sender_id, displayName: r.sender_name ?? "" } : null,
    memberCount: Number(r.member_count),
    ...notificationsOf(r),
    readSeq: Number(r.read_seq),
    unread: Number(r.unread),
    peer: r.peer_id
      ? { id: r.peer_id, username: r.peer_username ?? "", displayName: r.peer_name ?? "", avatarUrl: r.peer_avatar_url }
      : null,
  };
}

function notificationsOf(r: Row): { muted: boolean; notifications: NotificationState } {
  const notifications = notificationState(r.level, r.level_set, r.snooze_until);
  return { muted: notifications.muted, notifications };
}
