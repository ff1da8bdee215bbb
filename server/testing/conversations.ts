import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import { conversations, members } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { createSendRateLimiter } from "../messaging/message-rules";
import type { SendDeps } from "../messaging/send";
import type { Publisher } from "../realtime/publisher";
import type { Persona } from "./personas";

/** A group written directly (group.create belongs to the groups domain): the first persona owns it. */
export async function seedGroup(db: DbOrTx, owner: Persona, others: Persona[], name = "Group"): Promise<string> {
  const [group] = await db
    .insert(conversations)
    .values({ kind: "group", name, createdBy: owner.id, memberCount: 1 + others.length })
    .returning({ id: conversations.id });
  await db
    .insert(members)
    .values([
      { conversationId: group.id, userId: owner.id, role: "owner" as const },
      ...others.map((p) => ({ conversationId: group.id, userId: p.id, role: "member" as const })),
    ]);
  return group.id;
}

/** Adds `count` generated users to a group in ONE statement; returns the new member count. */
export async function seedCrowd(db: DbOrTx, conversationId: string, count: number): Promise<number> {
  const tag = Math.random().toString(36).slice(2, 8);
  await db.execute(sql`
    with crowd as (
      insert into users (username, display_name, password_hash)
      select 'crowd_' || ${tag} || '_' || n, 'Crowd ' || n, 'not-a-login'
      from generate_series(1, ${count}) as n
      returning id
    ), joined as (
      insert into members (conversation_id, user_id) select ${conversationId}::uuid, id from crowd returning 1
    )
    update conversations set member_count = member_count + (select count(*) from joined)
    where id = ${conversationId}::uuid`);
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select member_count as n from conversations where id = ${conversationId}::uuid`,
  );
  return Number(row.n);
}

/** Rows in each messaging table: a write shows up as a changed count. */
export async function tableCounts(db: DbOrTx): Promise<Record<string, number>> {
  const [row] = await queryRows<Record<string, string | number>>(
    db,
    sql`select
      (select count(*) from users) as users,
      (select count(*) from conversations) as conversations,
      (select count(*) from members) as members,
      (select count(*) from messages) as messages,
      (select count(*) from mentions) as mentions,
      (select count(*) from outbox) as outbox`,
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

/** Send dependencies for tests: the test Soketi, no blocked words, a rate limit tests never reach. */
export function testSendDeps(publisher: Publisher, points = 10_000): SendDeps {
  return {
    publisher,
    rateLimiter: createSendRateLimiter({ points, durationSeconds: 1 }),
    blockedWords: { words: [], mode: "reject" },
  };
}
