import { and, asc, eq, gt, lte, type SQL } from "drizzle-orm";
import { strToU8, Zip, ZipDeflate } from "fflate";
import { conversations, files, members, messages, users } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { AppError } from "../errors";

// Messages are read and written this many at a time: memory stays flat whatever the history.
const PAGE = 1_000;

const README = `This is your data from Chorus, as JSON.

profile.json        your account
conversations.json  the conversations you are or were in, your role and read position
messages/<id>.json  the messages of each conversation you can see (from when you joined
                    until you left); deleted messages keep their place without their text
files.json          metadata of the files you uploaded (name, type, size, where shared)
`;

/**
 * A zip of a person's data, as chunks to send as they are made: their
 * profile, their conversations, the messages they can see in each (as
 * message.history would show them) and their files' metadata.
 */
export async function* userExport(db: DbOrTx, userId: string): AsyncGenerator<Uint8Array> {
  const [profile] = await db
    .select({
      id: users.id,
      username: users.username,
      displayName: users.displayName,
      avatarUrl: users.avatarUrl,
      email: users.email,
      createdAt: users.createdAt,
      isAdmin: users.isAdmin,
      deactivatedAt: users.deactivatedAt,
      lastSeenAt: users.lastSeenAt,
    })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!profile) throw new AppError("NOT_FOUND", "No such user");

  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else out.push(chunk);
  });
  const drain = function* () {
    if (failure) throw failure;
    while (out.length > 0) yield out.shift() as Uint8Array;
  };
  const whole = (name: string, value: unknown) => {
    const file = new ZipDeflate(name, { level: 6 });
    zip.add(file);
    file.push(strToU8(typeof value === "string" ? value : JSON.stringify(value, null, 2)), true);
  };

  whole("README.txt", README);
  whole("profile.json", { ...profile, exportedAt: new Date().toISOString() });

  const memberships = await db
    .select({
      conversationId: members.conversationId,
      kind: conversations.kind,
      name: conversations.name,
      role: members.role,
      joinedAt: members.joinedAt,
      joinedSeq: members.joinedSeq,
      readSeq: members.readSeq,
      leftAt: members.leftAt,
      leftSeq: members.leftSeq,
    })
    .from(members)
    .innerJoin(conversations, eq(conversations.id, members.conversationId))
    .where(eq(members.userId, userId))
    .orderBy(asc(members.joinedAt));
  whole("conversations.json", memberships);
  const uploaded = await db
    .select({
      id: files.id,
      name: files.name,
      mime: files.mime,
      size: files.size,
      width: files.width,
      height: files.height,
      conversationId: files.conversationId,
      messageId: files.messageId,
      createdAt: files.createdAt,
    })
    .from(files)
    .where(eq(files.uploaderId, userId))
    .orderBy(asc(files.createdAt));
  whole(
    "files.json",
    uploaded.map((f) => ({ ...f, messageId: f.messageId === null ? null : f.messageId.toString() })),
  );
  yield* drain();

  for (const m of memberships) {
    const file = new ZipDeflate(`messages/${m.conversationId}.json`, { level: 6 });
    zip.add(file);
    file.push(strToU8("[\n"));
    let after = m.joinedSeq;
    let first = true;
    for (;;) {
      const visible: SQL[] = [eq(messages.conversationId, m.conversationId), gt(messages.seq, after)];
      if (m.leftAt) visible.push(lte(messages.seq, m.leftSeq ?? m.joinedSeq));
      const page = await db
        .select({
          seq: messages.seq,
          id: messages.id,
          senderId: messages.senderId,
          senderName: users.displayName,
          kind: messages.kind,
          body: messages.body,
          createdAt: messages.createdAt,
          editedAt: messages.editedAt,
          deletedAt: messages.deletedAt,
        })
        .from(messages)
        .leftJoin(users, eq(users.id, messages.senderId))
        .where(and(...visible))
        .orderBy(asc(messages.seq))
        .limit(PAGE);
      for (const row of page) {
        const entry = { ...row, id: row.id.toString(), body: row.deletedAt ? null : row.body };
        file.push(strToU8(`${first ? "" : ",\n"}${JSON.stringify(entry)}`));
        first = false;
      }
      yield* drain();
      if (page.length < PAGE) break;
      after = page[page.length - 1].seq;
    }
    file.push(strToU8("\n]\n"), true);
  }
  zip.end();
  yield* drain();
}

/** The file name a browser saves the export as. */
export function exportFileName(username: string, now = new Date()): string {
  return `chorus-${username.replace(/[^A-Za-z0-9_.-]/g, "_")}-${now.toISOString().slice(0, 10)}.zip`;
}
