import { conversations, members } from "@/db/schema";
import type { Db } from "@/db/types";
import type { Persona } from "../testing/personas";

// Conversations written directly, so presence tests do not depend on the
// messaging and group flows (tested in their own domains).

export async function dmBetween(db: Db, a: Persona, b: Persona): Promise<string> {
  const [low, high] = [a.id, b.id].sort();
  const [row] = await db
    .insert(conversations)
    .values({ kind: "dm", dmKey: `${low}:${high}`, createdBy: a.id, memberCount: 2 })
    .returning({ id: conversations.id });
  await db.insert(members).values([
    { conversationId: row.id, userId: a.id },
    { conversationId: row.id, userId: b.id },
  ]);
  return row.id;
}

export async function groupOf(db: Db, people: Persona[], name = "Group"): Promise<string> {
  const [row] = await db
    .insert(conversations)
    .values({ kind: "group", name, createdBy: people[0].id, memberCount: people.length })
    .returning({ id: conversations.id });
  await db.insert(members).values(
    people.map((p, i) => ({
      conversationId: row.id,
      userId: p.id,
      role: i === 0 ? ("owner" as const) : ("member" as const),
    })),
  );
  return row.id;
}
