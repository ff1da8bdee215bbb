// Bulk seeding with SQL: thousands of users and members in a few statements.
// Rows look exactly like the domain code writes them (versions from the
// global sequence, member counts, the members' sync_version raised).
import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import type { DbOrTx } from "@/db/types";

export type SeedUser = { id: string; username: string };

let batch = 0;

/** `count` users sharing one password hash, named bench_<tag>_<n>. */
export async function seedUsers(db: DbOrTx, count: number, tag: string, passwordHash: string): Promise<SeedUser[]> {
  if (count <= 0) return [];
  const prefix = `b${++batch}${tag}`.slice(0, 20);
  const rows = await queryRows<{ id: string; username: string; n: number }>(
    db,
    sql`insert into users (username, display_name, password_hash)
        select ${prefix} || '_' || g, 'Bench ' || ${tag} || ' ' || g, ${passwordHash}
        from generate_series(1, ${count}::int) g
        returning id, username`,
  );
  return rows
    .map((r) => ({ id: r.id, username: r.username }))
    .sort((a, b) => Number(a.username.split("_").pop()) - Number(b.username.split("_").pop()));
}

export type SeedGroup = { id: string; memberIds: string[] };

/** A group owned by memberIds[0]; the other members join as plain members. */
export async function seedGroup(db: DbOrTx, name: string, memberIds: string[]): Promise<SeedGroup> {
  const [{ v }] = await queryRows<{ v: string }>(db, sql`select nextval('chorus_version_seq')::text as v`);
  const version = Number(v);
  const [conv] = await queryRows<{ id: string }>(
    db,
    sql`insert into conversations (kind, name, created_by, member_count, version)
        values ('group', ${name}, ${memberIds[0]}, ${memberIds.length}, ${version}) returning id`,
  );
  const ids = `{${memberIds.join(",")}}`;
  await db.execute(
    sql`insert into members (conversation_id, user_id, role, version)
        select ${conv.id}, u, case when ord = 1 then 'owner' else 'member' end, ${version}
        from unnest(${ids}::uuid[]) with ordinality as t(u, ord)`,
  );
  await db.execute(
    sql`update users set sync_version = greatest(sync_version, ${version}) where id = any(${ids}::uuid[])`,
  );
  return { id: conv.id, memberIds };
}

/** Many small groups sharing `memberIds`, in one pass per statement. */
export async function seedGroups(db: DbOrTx, count: number, name: string, memberIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await seedGroup(db, `${name} ${i + 1}`, memberIds)).id);
  return ids;
}

/**
 * `count` text messages from `senderId` appended to a conversation, with the
 * conversation's last_seq moved. Seeded ids are negative so they can never
 * collide with the Snowflake ids the app generates.
 */
export async function seedMessages(db: DbOrTx, conversationId: string, senderId: string, count: number): Promise<void> {
  await db.execute(sql`create sequence if not exists bench_seed_message_id`);
  await db.execute(
    sql`insert into messages (conversation_id, seq, id, sender_id, kind, body)
        select ${conversationId}, c.last_seq + g, -nextval('bench_seed_message_id'), ${senderId}, 'text', 'seeded message ' || g
        from conversations c, generate_series(1, ${count}::int) g where c.id = ${conversationId}`,
  );
  await db.execute(
    sql`update conversations set last_seq = last_seq + ${count}, last_message_at = now(),
        last_message_preview = 'seeded message ' || ${count}, last_message_sender_id = ${senderId}
        where id = ${conversationId}`,
  );
  await db.execute(
    sql`update members set read_seq = c.last_seq, delivered_seq = c.last_seq
        from conversations c where c.id = members.conversation_id
        and members.conversation_id = ${conversationId} and members.user_id = ${senderId}`,
  );
}

/** Spreads members' read positions over the conversation's history (receipts and unread have work to do). */
export async function scatterReadPositions(db: DbOrTx, conversationId: string): Promise<void> {
  await db.execute(
    sql`update members set read_seq = floor(random() * (c.last_seq + 1))::bigint,
        delivered_seq = c.last_seq
        from conversations c where c.id = members.conversation_id and members.conversation_id = ${conversationId}`,
  );
}

/**
 * `count` groups with the same members and `messages` messages each, in a
 * handful of statements; memberIds[0] owns and sent them, the others have
 * read a random part (so unread has work to do).
 */
export async function seedManyGroups(
  db: DbOrTx,
  count: number,
  name: string,
  memberIds: string[],
  messages = 0,
): Promise<string[]> {
  await db.execute(sql`create sequence if not exists bench_seed_message_id`);
  const [{ v }] = await queryRows<{ v: string }>(db, sql`select nextval('chorus_version_seq')::text as v`);
  const version = Number(v);
  const owner = memberIds[0];
  const convs = await queryRows<{ id: string }>(
    db,
    sql`insert into conversations (kind, name, created_by, member_count, version, last_seq, last_message_at, last_message_preview, last_message_sender_id)
        select 'group', ${name} || ' ' || g, ${owner}, ${memberIds.length}, ${version}, ${messages},
          case when ${messages} > 0 then now() - make_interval(secs => g) end,
          case when ${messages} > 0 then 'seeded message' end,
          case when ${messages} > 0 then ${owner}::uuid end
        from generate_series(1, ${count}::int) g returning id`,
  );
  const convIds = `{${convs.map((c) => c.id).join(",")}}`;
  const ids = `{${memberIds.join(",")}}`;
  await db.execute(
    sql`insert into members (conversation_id, user_id, role, version, read_seq, delivered_seq)
        select c, u, case when ord = 1 then 'owner' else 'member' end, ${version},
          case when ord = 1 then ${messages} else floor(random() * (${messages} + 1))::bigint end, ${messages}
        from unnest(${convIds}::uuid[]) c cross join unnest(${ids}::uuid[]) with ordinality as t(u, ord)`,
  );
  if (messages > 0) {
    await db.execute(
      sql`insert into messages (conversation_id, seq, id, sender_id, kind, body)
          select c, s, -nextval('bench_seed_message_id'), ${owner}, 'text', 'seeded message ' || s
          from unnest(${convIds}::uuid[]) c cross join generate_series(1, ${messages}::int) s`,
    );
  }
  await db.execute(
    sql`update users set sync_version = greatest(sync_version, ${version}) where id = any(${ids}::uuid[])`,
  );
  return convs.map((c) => c.id);
}
