import { eq } from "drizzle-orm";
import { users } from "@/db/schema";
import type { Db } from "@/db/types";
import { deactivateUser } from "../admin/users";
import { createGroup } from "../groups/info";
import { removeMember, setRole } from "../groups/membership";
import { openDm } from "../messaging/direct";
import { sendMessage } from "../messaging/send";
import type { Publisher } from "../realtime/publisher";
import { createPersonas, type Persona } from "./personas";
import { testSendDeps } from "./conversations";

/**
 * The standing cast of the security suites: alice owns "Launch team" with bob
 * as admin and carol and frank as members; dave was a member until alice
 * removed him; alice and bob share a DM; erin is signed up and in nothing;
 * gina is a site admin in nothing; hank was deactivated.
 */
export type World = {
  alice: Persona;
  bob: Persona;
  carol: Persona;
  dave: Persona;
  erin: Persona;
  frank: Persona;
  gina: Persona;
  hank: Persona;
  groupId: string;
  dmId: string;
  /** The group's last seq once seeded: carol's "Slides are up". */
  groupSeq: number;
  /** Alice's "Kick-off at ten" in the group. */
  kickoffSeq: number;
};

/** Seeds a fresh world through the domain functions, so its state is one the app can reach. */
export async function seedWorld(db: Db, publisher: Publisher): Promise<World> {
  const [alice, bob, carol, dave, erin, frank, gina, hank] = await createPersonas(
    db,
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "gina",
    "hank",
  );
  const deps = { publisher };
  const group = await createGroup(
    db,
    alice.id,
    { name: "Launch team", memberIds: [bob.id, carol.id, dave.id, frank.id] },
    deps,
  );
  const groupId = group.conversationId;
  await setRole(db, alice.id, { conversationId: groupId, userId: bob.id, role: "admin" }, deps);
  const send = testSendDeps(publisher);
  const kickoff = await sendMessage(
    db,
    alice.id,
    { conversationId: groupId, clientMsgId: `w-${alice.id}-1`, body: "Kick-off at ten" },
    send,
  );
  await sendMessage(
    db,
    dave.id,
    { conversationId: groupId, clientMsgId: `w-${dave.id}-1`, body: "I will be late" },
    send,
  );
  await removeMember(db, alice.id, { conversationId: groupId, userId: dave.id }, deps);
  const last = await sendMessage(
    db,
    carol.id,
    { conversationId: groupId, clientMsgId: `w-${carol.id}-1`, body: "Slides are up" },
    send,
  );
  const dm = await openDm(db, alice.id, bob.id, deps);
  await sendMessage(
    db,
    alice.id,
    { conversationId: dm.conversationId, clientMsgId: `w-${alice.id}-2`, body: "Got a minute?" },
    send,
  );
  await db.update(users).set({ isAdmin: true }).where(eq(users.id, gina.id));
  await deactivateUser(db, gina.id, { userId: hank.id }, deps);
  return {
    alice,
    bob,
    carol,
    dave,
    erin,
    frank,
    gina,
    hank,
    groupId,
    dmId: dm.conversationId,
    groupSeq: last.seq,
    kickoffSeq: kickoff.seq,
  };
}
