import { createCaller } from "../api/root";
import type { Db } from "@/db/types";
import { users } from "@/db/schema";
import { hashPassword } from "../auth/password";
import type { Publisher } from "../realtime/publisher";
import { testPublisher } from "./publisher";

export type Persona = { id: string; username: string; displayName: string };

let sharedHash: Promise<string> | undefined;

/** A signed-up user named after a persona (alice, bob, carol, an outsider), unique per call. */
export async function createPersona(db: Db, name: string): Promise<Persona> {
  // One real argon2 hash shared by test personas keeps suites fast.
  sharedHash ??= hashPassword("correct horse battery");
  const suffix = Math.random().toString(36).slice(2, 8);
  const [row] = await db
    .insert(users)
    .values({
      username: `${name}_${suffix}`,
      displayName: name[0].toUpperCase() + name.slice(1),
      passwordHash: await sharedHash,
    })
    .returning({ id: users.id, username: users.username, displayName: users.displayName });
  return row;
}

/** Several personas at once, in the order named. */
export function createPersonas(db: Db, ...names: string[]): Promise<Persona[]> {
  return Promise.all(names.map((name) => createPersona(db, name)));
}

export const PERSONA_PASSWORD = "correct horse battery";

/** A tRPC caller acting as this persona (or signed out when null). */
export function callerFor(db: Db, persona: Persona | null, publisher: Publisher = testPublisher()) {
  return createCaller({ db, user: persona ? { id: persona.id, name: persona.displayName } : null, publisher });
}
