// `npm run db:seed`: demo users, a DM and a group with some history, so a fresh
// install looks alive. Runs against the configured database (PGlite by default);
// safe to run twice. CI runs it so it cannot rot.
import { eq, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { migrate } from "../db/migrate";
import { users } from "../db/schema";
import type { Db } from "../db/types";
import { createCaller } from "../server/api/root";
import { flushPublished } from "../server/realtime/announce";
import type { Publisher } from "../server/realtime/publisher";
import { env } from "../server/env.js";

export const DEMO_PASSWORD = "chorus-demo";

const people = [
  { username: "alice", displayName: "Alice Martin" },
  { username: "bob", displayName: "Bob Chen" },
  { username: "carol", displayName: "Carol Diaz" },
  { username: "dave", displayName: "Dave Okafor" },
  { username: "erin", displayName: "Erin Kowalski" },
] as const;

type Name = (typeof people)[number]["username"];

// Nobody is connected while the demo is seeded: its events are recorded and not sent.
const nobodyListening: Publisher = {
  publish: async () => {},
  authorizeChannel: () => {
    throw new Error("the seed authorizes no channels");
  },
  authenticateUser: () => {
    throw new Error("the seed signs in no sockets");
  },
  terminateUserConnections: async () => {},
};

export async function seed(db: Db, publisher: Publisher = nobodyListening): Promise<{ created: boolean }> {
  const [existing] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(sql`lower(${users.username})`, "alice"));
  if (existing) return { created: false };

  const ids = {} as Record<Name, string>;
  for (const person of people) {
    const user = await createCaller({ db, user: null, publisher }).auth.register({
      ...person,
      password: DEMO_PASSWORD,
    });
    ids[person.username] = user.id;
  }
  const as = (name: Name) => createCaller({ db, user: { id: ids[name], name }, publisher });
  let sent = 0;
  const say = (name: Name, conversationId: string, body: string) => {
    sent += 1;
    return as(name).message.send({ conversationId, clientMsgId: `seed-${sent}`, body });
  };

  const dm = await as("alice").conversation.openDm({ userId: ids.bob });
  await say("alice", dm.conversationId, "Hey Bob! Did you get the slides?");
  await say("bob", dm.conversationId, "Got them, thanks. Reviewing now.");
  await say("alice", dm.conversationId, "Great, @bob let me know what you think.");

  const group = await as("alice").group.create({
    name: "Launch team",
    memberIds: [ids.bob, ids.carol, ids.dave, ids.erin],
  });
  await say("alice", group.id, "Welcome to the launch team 👋");
  await say("carol", group.id, "Morning all! Checklist is in the announcement.");
  await say("dave", group.id, "I'll take the release notes.");
  await say("erin", group.id, "@all standup moved to 10:30 tomorrow.");
  await as("bob").message.markRead({ conversationId: group.id, seq: 3 });

  const book = await as("carol").group.create({ name: "Book club", memberIds: [ids.alice, ids.erin] });
  await say("carol", book.id, "Next pick: The Left Hand of Darkness?");
  // Published marks are batched a few milliseconds later: write them before the caller closes the database.
  await flushPublished(db);
  return { created: true };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const handle = await createDb({ databaseUrl: env.DATABASE_URL, pgliteDir: env.PGLITE_DIR, maxConnections: 2 });
  try {
    await migrate(handle);
    const { created } = await seed(handle.db);
    console.log(
      created
        ? `Seeded demo users ${people.map((p) => p.username).join(", ")} (password: ${DEMO_PASSWORD}).`
        : "Demo data already present; nothing to do.",
    );
  } finally {
    await handle.close();
  }
}
