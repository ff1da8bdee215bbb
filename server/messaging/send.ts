import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type GroupCommitOptions, groupCommitRows } from "@/db/group-commit";
import { files, messages } from "@/db/schema";
import { MAX_ATTACHMENTS } from "@/lib/limits";
import type { Db, DbOrTx } from "@/db/types";
import { AppError } from "../errors";
import { announce, REQUEST_LEASE_SECONDS } from "../realtime/announce";
import { conversationChannel } from "../realtime/channels";
import { env } from "../env";
import { attachmentsOf } from "../files/attachments";
import { firstLink } from "../previews/parse";
import { linkPending } from "../previews/worker";
import type { RealtimeEvents, ReplyPreview, WireAttachment, WireMessage } from "../realtime/events";
import type { Publisher } from "../realtime/publisher";
import { previewOf } from "./append";
import { requireMembership } from "./membership";
import { mayMentionAll, mentionAllRefusal, parseMentions } from "./mentions";
import { previewSql } from "./message-view";
import {
  applyBlockedWords,
  type BlockedWords,
  blockedWordsFromEnv,
  getSendRateLimiter,
  normalizeBody,
  type SendRateLimiter,
} from "./message-rules";
import { nextMessageId } from "./snowflake";

export const sendMessageInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  clientMsgId: z
    .string("clientMsgId must be a string")
    .min(1, "clientMsgId cannot be empty")
    .max(64, "clientMsgId must be at most 64 characters")
    .regex(/^[A-Za-z0-9_.:-]+$/, "clientMsgId may contain only letters, digits and _ . : -"),
  // Length and content rules live in normalizeBody so every caller gets them.
  body: z.string("body must be a string"),
  replyToSeq: z
    .number("replyToSeq must be a number")
    .int("replyToSeq must be a whole number")
    .min(1, "replyToSeq must be 1 or more")
    .nullish(),
  attachments: z
    .array(z.uuid("each attachment must be a file id"), "attachments must be a list of file ids")
    .max(MAX_ATTACHMENTS, `A message carries at most ${MAX_ATTACHMENTS} files`)
    .refine((ids) => new Set(ids).size === ids.length, "An attachment is listed twice")
    .optional(),
});

export type SendMessageInput = z.infer<typeof sendMessageInput>;

export type SentMessage = {
  id: string;
  seq: number;
  createdAt: string;
  /** As stored: trimmed, and masked when blocked words are masked. */
  body: string;
  attachments: WireAttachment[];
};

export type SendDeps = {
  publisher: Publisher;
  rateLimiter?: SendRateLimiter;
  blockedWords?: BlockedWords;
  /** MENTION_ALL_MAX_MEMBERS unless a test says otherwise. */
  mentionAllMaxMembers?: number;
  /** Queue the first link for a preview; LINK_PREVIEWS when unset. */
  linkPreviews?: boolean;
};

// Placeholders, so the statement's text is rendered once and stays prepared (see preparedRows).
const p = {
  messageId: sql.placeholder("messageId"),
  conversationId: sql.placeholder("conversationId"),
  fileIds: sql.placeholder("fileIds"),
  senderId: sql.placeholder("senderId"),
  replyToSeq: sql.placeholder("replyToSeq"),
  at: sql.placeholder("at"),
  preview: sql.placeholder("preview"),
  mentionsAll: sql.placeholder("mentionsAll"),
  mentionAllMax: sql.placeholder("mentionAllMax"),
  attachmentCount: sql.placeholder("attachmentCount"),
  clientMsgId: sql.placeholder("clientMsgId"),
  body: sql.placeholder("body"),
  linkUrl: sql.placeholder("linkUrl"),
  linkState: sql.placeholder("linkState"),
  usernames: sql.placeholder("usernames"),
  channel: sql.placeholder("channel"),
  payload: sql.placeholder("payload"),
  leaseSeconds: sql.placeholder("leaseSeconds"),
};

/**
 * Concurrent sends share a transaction (see groupCommitRows). Each takes its
 * conversation's row lock, so a group runs them in conversation order.
 */
const SEND_GROUP: GroupCommitOptions = {
  maxInFlight: 2,
  maxGroup: 64,
  orderKey: (values) => values.conversationId as string,
};

/**
 * Attachments are claimed first and gate the rest: if any listed file is not the sender's own
 * unattached upload, nothing is written. files_message_fk (checked at the end of the statement)
 * fails the whole send if files were claimed for a message that was not written.
 */
const sendStatement = () =>
  sql`with attached as (
      update files f set message_id = ${p.messageId}::bigint, conversation_id = ${p.conversationId}::uuid
      where f.id = any(${p.fileIds}::uuid[]) and f.uploader_id = ${p.senderId}::uuid and f.message_id is null
      returning f.id, f.name, f.mime, f.size, f.width, f.height, f.thumbnail_key is not null as thumbnail, f.created_at
    ), files_json as (
      select coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name, 'mime', a.mime, 'size', a.size,
               'width', a.width, 'height', a.height, 'thumbnail', a.thumbnail)
               order by a.created_at, a.id), '[]'::jsonb) as list,
             count(*) as n
      from attached a
    ), reply as (
      -- The original of a reply: in this conversation and after the sender joined (their visible history).
      select r.seq, r.deleted_at is not null as deleted, ru.display_name as sender_name,
             ${previewSql(sql`r.body`)} as preview,
             -- A current member whose history starts after the original must not read its preview in the event.
             exists (select 1 from members lm where lm.conversation_id = ${p.conversationId}::uuid
                     and lm.joined_seq >= r.seq and lm.left_at is null) as hidden_from_some
      from messages r left join users ru on ru.id = r.sender_id
      where ${p.replyToSeq}::bigint is not null and r.conversation_id = ${p.conversationId}::uuid
        and r.seq = ${p.replyToSeq}::bigint
        and r.seq > (select joined_seq from members where conversation_id = ${p.conversationId}::uuid
                     and user_id = ${p.senderId}::uuid)
    ), reply_json as (
      select coalesce((select jsonb_build_object('seq', seq, 'deleted', deleted,
               'senderName', case when deleted then null else sender_name end,
               'preview', case when deleted then null else preview end) from reply), 'null'::jsonb) as j
    ), conv as (
      update conversations c
      set last_seq = c.last_seq + 1, last_message_at = ${p.at}::timestamptz, last_message_preview = ${p.preview},
          last_message_sender_id = ${p.senderId}::uuid
      where c.id = ${p.conversationId}::uuid
        and exists (select 1 from members m where m.conversation_id = c.id and m.user_id = ${p.senderId}::uuid
                    and m.left_at is null
                    and (not ${p.mentionsAll} or c.kind = 'dm' or c.member_count <= ${p.mentionAllMax}
                         or m.role <> 'member'))
        and (${p.replyToSeq}::bigint is null or exists (select 1 from reply))
        and (select n from files_json) = ${p.attachmentCount}
        and not exists (select 1 from messages x where x.sender_id = ${p.senderId}::uuid
                        and x.client_msg_id = ${p.clientMsgId})
      returning c.last_seq as seq
    ), sender as (
      select display_name, avatar_url from users where id = ${p.senderId}::uuid
    ), msg as (
      insert into messages (conversation_id, seq, id, sender_id, client_msg_id, kind, body, mentions_all, created_at,
                            reply_to_seq, link_url, link_state)
      select ${p.conversationId}::uuid, conv.seq, ${p.messageId}::bigint, ${p.senderId}::uuid, ${p.clientMsgId}, 'text',
             ${p.body}, ${p.mentionsAll}, ${p.at}::timestamptz, ${p.replyToSeq}::bigint, ${p.linkUrl}, ${p.linkState}
      from conv
      returning seq
    ), own as (
      -- Sending reads your own messages: the sender's unread stays zero (invariant 3).
      update members m set read_seq = greatest(m.read_seq, conv.seq), delivered_seq = greatest(m.delivered_seq, conv.seq)
      from conv where m.conversation_id = ${p.conversationId}::uuid and m.user_id = ${p.senderId}::uuid
      returning 1
    ), mentioned as (
      -- @username: a row per mentioned current member, bounded by the body; @all is the flag above.
      insert into mentions (user_id, conversation_id, seq)
      select u.id, ${p.conversationId}::uuid, conv.seq
      from conv, users u join members mm on mm.user_id = u.id and mm.conversation_id = ${p.conversationId}::uuid
      where lower(u.username) = any(${p.usernames}::text[])
        and mm.left_at is null and u.id <> ${p.senderId}::uuid
      on conflict do nothing
      returning 1
    ), event as (
      insert into outbox (channels, event, payload, next_attempt_at)
      select array[${p.channel}], 'message.new',
             -- Ids only when some member may not see the quoted original: each client reads the
             -- message through history, which applies its own window.
             case when coalesce((select hidden_from_some from reply), false)
               then jsonb_build_object('id', ${p.messageId}::text, 'conversationId', ${p.conversationId}::text,
                      'seq', conv.seq, 'ref', true)
               else ${p.payload}::jsonb || jsonb_build_object('seq', conv.seq,
                 'senderName', sender.display_name, 'senderAvatarUrl', sender.avatar_url, 'replyTo', reply_json.j,
                 'attachments', files_json.list)
             end,
             now() + make_interval(secs => ${p.leaseSeconds})
      from conv, sender, reply_json, files_json
      returning id
    )
    select conv.seq, event.id as outbox_id, sender.display_name as sender_name, sender.avatar_url as sender_avatar_url,
           reply_json.j as reply_to, files_json.list as attachments,
           coalesce((select hidden_from_some from reply), false) as reply_hidden
    from conv, event, sender, msg, reply_json, files_json`;

/**
 * Sends a text message: validate, then ONE statement that checks membership,
 * bumps the conversation's seq (its row lock keeps seq gapless), inserts the
 * message, moves the sender's read position, records mentions and writes the
 * outbox row leased to this request; publish after it commits. Under load the
 * statement commits together with other requests' sends. A resend with
 * the same clientMsgId returns the original and writes nothing. The same
 * statement refuses (writes nothing) a reply to a message outside the
 * sender's visible history and @all from a member of a large group.
 */
export async function sendMessage(
  db: Db,
  senderId: string,
  input: SendMessageInput,
  deps: SendDeps,
): Promise<SentMessage> {
  const attachmentIds = input.attachments ?? [];
  // A message of files alone needs no text.
  const normalized = normalizeBody(input.body, { allowEmpty: attachmentIds.length > 0 });
  const body = applyBlockedWords(normalized, deps.blockedWords ?? blockedWordsFromEnv());
  const mentioned = parseMentions(body);
  const linkUrl = (deps.linkPreviews ?? env.LINK_PREVIEWS === "on") ? firstLink(body) : null;
  const replyToSeq = input.replyToSeq ?? null;
  const mentionAllMax = deps.mentionAllMaxMembers ?? env.MENTION_ALL_MAX_MEMBERS;
  await (deps.rateLimiter ?? getSendRateLimiter()).consume(senderId);

  const createdAt = new Date();
  const at = createdAt.toISOString();
  const id = nextMessageId();
  const channel = conversationChannel(input.conversationId);
  // seq and the sender's name are known only inside the statement; the payload gets them there.
  const payload: Omit<WireMessage, "seq" | "senderName" | "senderAvatarUrl" | "replyTo" | "attachments"> = {
    id: id.toString(),
    conversationId: input.conversationId,
    senderId,
    clientMsgId: input.clientMsgId,
    kind: "text",
    body,
    meta: null,
    createdAt: createdAt.toISOString(),
    editedAt: null,
    deletedAt: null,
    reactions: [],
    linkPreview: null,
  };
  let row: {
    seq: number | string;
    outbox_id: number | string;
    sender_name: string;
    sender_avatar_url: string | null;
    reply_to: ReplyPreview | string | null;
    attachments: WireAttachment[] | string;
    reply_hidden: boolean;
  };
  const fileIds = `{${attachmentIds.join(",")}}`;
  try {
    [row] = await groupCommitRows<typeof row>(
      db,
      "send_message",
      sendStatement,
      {
        messageId: id.toString(),
        conversationId: input.conversationId,
        fileIds,
        senderId,
        replyToSeq,
        at,
        preview: previewOf(body || attachmentPreview(attachmentIds.length)),
        mentionsAll: mentioned.all,
        mentionAllMax,
        attachmentCount: attachmentIds.length,
        clientMsgId: input.clientMsgId,
        body,
        linkUrl,
        linkState: linkUrl ? "pending" : null,
        usernames: `{${mentioned.usernames.join(",")}}`,
        channel,
        payload: JSON.stringify(payload),
        leaseSeconds: REQUEST_LEASE_SECONDS,
      },
      SEND_GROUP,
    );
  } catch (error) {
    // Files were claimed but the message was not written (not a member, a resend, a refused reply): say why.
    if (isForeignKeyViolation(error, "files_message_fk")) {
      return explainUnwrittenSend(db, senderId, input, {
        attachmentIds,
        mentionedAll: mentioned.all,
        mentionAllMax,
        replyToSeq,
      });
    }
    // A concurrent resend won the unique (sender, clientMsgId): our statement failed whole, seq untouched.
    if (!isUniqueViolation(error, "messages_sender_client_msg_uq")) throw error;
    const winner = await findByClientMsgId(db, senderId, input.clientMsgId);
    if (!winner) throw error;
    return sameConversationOrConflict(winner, input.conversationId);
  }

  if (!row) {
    return explainUnwrittenSend(db, senderId, input, {
      attachmentIds,
      mentionedAll: mentioned.all,
      mentionAllMax,
      replyToSeq,
    });
  }

  const seq = Number(row.seq);
  const attachments = (typeof row.attachments === "string" ? JSON.parse(row.attachments) : row.attachments).map(
    (a: WireAttachment) => ({ ...a, size: Number(a.size) }),
  ) as WireAttachment[];
  const message: WireMessage = {
    ...payload,
    seq,
    senderName: row.sender_name,
    senderAvatarUrl: row.sender_avatar_url,
    replyTo: typeof row.reply_to === "string" ? JSON.parse(row.reply_to) : row.reply_to,
    attachments,
  };
  // As the outbox row: ids only when the quoted original is outside some member's history.
  const announced: RealtimeEvents["message.new"] = row.reply_hidden
    ? { id: message.id, conversationId: input.conversationId, seq, ref: true }
    : message;
  await announce(db, deps.publisher, [
    { id: Number(row.outbox_id), channels: [channel], event: "message.new", payload: announced },
  ]);
  // The preview is fetched after commit by the preview worker and arrives as message.updated.
  if (linkUrl) linkPending();
  return { id: message.id, seq, createdAt: message.createdAt, body, attachments };
}

/** The conversation list's line for a message of files alone. */
const attachmentPreview = (count: number) => (count === 1 ? "📎 A file" : `📎 ${count} files`);

/**
 * The statement wrote nothing: a resend (scoped to the sender, so it reveals
 * nothing), not allowed to send here, or something in it the sender may not use.
 */
async function explainUnwrittenSend(
  db: Db,
  senderId: string,
  input: SendMessageInput,
  why: { attachmentIds: string[]; mentionedAll: boolean; mentionAllMax: number; replyToSeq: number | null },
): Promise<SentMessage> {
  const original = await findByClientMsgId(db, senderId, input.clientMsgId);
  if (original) return sameConversationOrConflict(original, input.conversationId);
  const { conversation, member } = await requireMembership(db, input.conversationId, senderId);
  if (why.mentionedAll && !mayMentionAll(conversation, member.role, why.mentionAllMax)) {
    throw new AppError("FORBIDDEN", mentionAllRefusal(why.mentionAllMax));
  }
  if (why.attachmentIds.length > 0) {
    const own = await db
      .select({ id: files.id, messageId: files.messageId })
      .from(files)
      .where(and(inArray(files.id, why.attachmentIds), eq(files.uploaderId, senderId)));
    // Other people's files and unknown ids read alike: nobody learns which ids exist.
    if (own.length < why.attachmentIds.length) {
      throw new AppError("NOT_FOUND", "An attachment was not found; upload it again");
    }
    if (own.some((f) => f.messageId !== null)) {
      throw new AppError("CONFLICT", "An attachment was already sent with another message");
    }
  }
  if (why.replyToSeq !== null) {
    throw new AppError("BAD_REQUEST", `replyToSeq ${why.replyToSeq} is not a message you can see in this conversation`);
  }
  throw new Error(`send to ${input.conversationId} wrote nothing for a current member`);
}

type Original = SentMessage & { conversationId: string };

async function findByClientMsgId(db: DbOrTx, senderId: string, clientMsgId: string): Promise<Original | null> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.senderId, senderId), eq(messages.clientMsgId, clientMsgId)))
    .limit(1);
  if (!row) return null;
  return {
    id: row.id.toString(),
    seq: row.seq,
    createdAt: row.createdAt.toISOString(),
    body: row.body,
    attachments: (await attachmentsOf(db, [row.id])).get(row.id.toString()) ?? [],
    conversationId: row.conversationId,
  };
}

function sameConversationOrConflict(original: Original, conversationId: string): SentMessage {
  if (original.conversationId !== conversationId) {
    throw new AppError("CONFLICT", "This clientMsgId was already used for a message in another conversation");
  }
  const { conversationId: _, ...sent } = original;
  return sent;
}

/** Postgres foreign key violation (23503) on both drivers, on one constraint. */
export function isForeignKeyViolation(error: unknown, constraint: string): boolean {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const candidate = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown; message?: unknown };
    if (candidate.code === "23503") {
      const name = candidate.constraint_name ?? candidate.constraint;
      return name === constraint || (typeof candidate.message === "string" && candidate.message.includes(constraint));
    }
  }
  return false;
}

/** Postgres unique violation (23505) on both drivers, optionally on one constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const candidate = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown; message?: unknown };
    if (candidate.code === "23505") {
      if (!constraint) return true;
      const name = candidate.constraint_name ?? candidate.constraint;
      return name === constraint || (typeof candidate.message === "string" && candidate.message.includes(constraint));
    }
  }
  return false;
}
