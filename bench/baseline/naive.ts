// The naive design Chorus is measured against, written for the bench only:
// fan-out on write. Every message is copied once per member, every other
// member's unread counter is incremented, and it is published to one channel
// per member (each authorized with its own HTTP request). Its own tables,
// in the same database as Chorus.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { Db } from "@/db/types";
import type { Publisher } from "@/server/realtime/publisher";
import { BASELINE_CHANNEL_PREFIX } from "../clients";

export const BASELINE_TABLES = ["bl_messages", "bl_members", "bl_unread"];

export async function createBaselineTables(db: Db): Promise<void> {
  await db.execute(sql`drop table if exists bl_messages, bl_members, bl_unread`);
  await db.execute(
    sql`create table bl_members (conversation_id uuid not null, user_id uuid not null, primary key (conversation_id, user_id))`,
  );
  await db.execute(sql`create table bl_messages (
    id bigserial primary key, recipient_id uuid not null, conversation_id uuid not null, sender_id uuid not null,
    client_msg_id text not null, body text not null, created_at timestamptz not null default now())`);
  await db.execute(sql`create index bl_messages_inbox_idx on bl_messages (recipient_id, conversation_id, id)`);
  await db.execute(
    sql`create table bl_unread (user_id uuid not null, conversation_id uuid not null, count integer not null default 0, primary key (user_id, conversation_id))`,
  );
}

/** Mirrors a Chorus conversation's members into the baseline's tables. */
export async function mirrorConversation(db: Db, conversationId: string): Promise<void> {
  await db.execute(
    sql`insert into bl_members select conversation_id, user_id from members where conversation_id = ${conversationId} on conflict do nothing`,
  );
  await db.execute(
    sql`insert into bl_unread (user_id, conversation_id) select user_id, conversation_id from members where conversation_id = ${conversationId} on conflict do nothing`,
  );
}

export const baselineChannel = (userId: string) => `${BASELINE_CHANNEL_PREFIX}${userId}`;

type SendInput = { senderId: string; conversationId: string; clientMsgId: string; body: string };

export async function naiveSend(db: Db, publisher: Publisher, input: SendInput): Promise<{ recipients: number }> {
  const recipients = await db.transaction(async (tx) => {
    const rows = await queryRows<{ user_id: string }>(
      tx,
      sql`select user_id from bl_members where conversation_id = ${input.conversationId}`,
    );
    if (!rows.some((r) => r.user_id === input.senderId)) throw new Error("not a member");
    await tx.execute(sql`insert into bl_messages (recipient_id, conversation_id, sender_id, client_msg_id, body)
      select user_id, ${input.conversationId}, ${input.senderId}, ${input.clientMsgId}, ${input.body}
      from bl_members where conversation_id = ${input.conversationId}`);
    // Rows locked in one order: concurrent sends to a big group would deadlock otherwise.
    await tx.execute(sql`update bl_unread u set count = u.count + 1
      from (select user_id from bl_unread where conversation_id = ${input.conversationId} and user_id <> ${input.senderId}
            order by user_id for update) l
      where u.conversation_id = ${input.conversationId} and u.user_id = l.user_id`);
    return rows.map((r) => r.user_id);
  });
  const payload = {
    id: input.clientMsgId,
    conversationId: input.conversationId,
    seq: 0,
    senderId: input.senderId,
    senderName: null,
    senderAvatarUrl: null,
    clientMsgId: input.clientMsgId,
    kind: "text" as const,
    body: input.body,
    meta: null,
    createdAt: new Date().toISOString(),
  };
  await publisher.publish(recipients.map(baselineChannel), "message.new", payload);
  return { recipients: recipients.length };
}

export type BaselineServer = { url: string; close: () => Promise<void> };

async function readJson(req: IncomingMessage): Promise<Record<string, string>> {
  let raw = "";
  for await (const chunk of req) raw += chunk;
  return JSON.parse(raw) as Record<string, string>;
}

/**
 * The baseline behind a plain HTTP server on loopback: POST /send and the
 * per-channel POST /auth. Who is calling is a header: the naive app's
 * session handling is not what is measured.
 */
export async function startBaselineServer(db: Db, publisher: Publisher): Promise<BaselineServer> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const userId = String(req.headers["x-user-id"] ?? "");
    readJson(req)
      .then(async (body) => {
        if (req.url === "/send") {
          reply(200, await naiveSend(db, publisher, { ...(body as unknown as SendInput), senderId: userId }));
        } else if (req.url === "/auth") {
          if (body.channel_name !== baselineChannel(userId)) return reply(403, { error: "not your channel" });
          reply(200, publisher.authorizeChannel(body.socket_id, body.channel_name));
        } else reply(404, { error: "not found" });
      })
      .catch((error: Error) => reply(500, { error: error.message }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function baselineClient(url: string) {
  const post = async (path: string, userId: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-user-id": userId },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`baseline ${path}: HTTP ${response.status}: ${String(json.error)}`);
    return json;
  };
  return {
    send: (userId: string, input: Omit<SendInput, "senderId">) => post("/send", userId, input),
    authorize: async (userId: string, socketId: string, channel: string) =>
      (await post("/auth", userId, { socket_id: socketId, channel_name: channel })) as { auth: string },
  };
}
