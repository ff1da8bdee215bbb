import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { WriteGuard } from "../testing/footprint";
import type { Persona } from "../testing/personas";
import { useTestPublisher } from "../testing/read-state";
import { createRecordingPublisher } from "../testing/recording-publisher";
import { seedWorld, type World } from "../testing/world";
import {
  authzMatrix,
  conversationsOutside,
  type MatrixPersona,
  matrixPersonas,
  type Outcome,
  personaOf,
} from "./authz-matrix";
import { appRouter, createCaller } from "./root";

const publisher = createRecordingPublisher();

/** The request context for a persona; the one place that knows its shape. */
function callerAs(db: Db, persona: Persona | null) {
  const ctx = { db, user: persona ? { id: persona.id, name: persona.displayName } : null, publisher };
  return createCaller(ctx);
}

function procedureOf(caller: ReturnType<typeof createCaller>, path: string): (input: unknown) => Promise<unknown> {
  let target: unknown = caller;
  for (const key of path.split(".")) target = (target as Record<string, unknown>)[key];
  return target as (input: unknown) => Promise<unknown>;
}

async function outcomeOf(call: Promise<unknown>): Promise<{ outcome: Outcome; message?: string; result?: unknown }> {
  try {
    return { outcome: "allowed", result: await call };
  } catch (error) {
    if (error instanceof TRPCError) return { outcome: error.code, message: error.message };
    throw error;
  }
}

type Cell = { label: string; path: string; persona: MatrixPersona; outcome: Outcome; input: MatrixInput };
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, { _def: { type: string } }> } })._def
  .procedures;
const routerPaths = Object.keys(procedures);
type MatrixInput = (typeof authzMatrix)[string]["input"];

const cells: Cell[] = Object.entries(authzMatrix).flatMap(([path, row]) =>
  [["", row] as const, ...Object.entries(row.variants ?? {}).map(([name, v]) => [` (${name})`, v] as const)].flatMap(
    ([suffix, { input, expect }]) =>
      matrixPersonas.map((persona) => ({
        label: `${path}${suffix}`,
        path,
        persona,
        outcome: expect[persona],
        input,
      })),
  ),
);

describe("the authorization matrix", () => {
  it("has a row for every procedure of the app router", () => {
    const missing = routerPaths.filter((path) => !(path in authzMatrix));
    expect(missing, `procedures without a row in server/api/authz-matrix.ts: ${missing.join(", ")}`).toEqual([]);
  });

  it("has no row for a procedure the router no longer has", () => {
    const stale = Object.keys(authzMatrix).filter((path) => !routerPaths.includes(path));
    expect(stale, `rows for procedures not in the router: ${stale.join(", ")}`).toEqual([]);
  });
});

describe.each(testDrivers)("who may call what (%s)", (driver) => {
  let handle: TestDb;
  let db: Db;
  let guard: WriteGuard;

  beforeAll(async () => {
    useTestPublisher(publisher);
    handle = await createTestDb(driver);
    db = handle.db;
    guard = new WriteGuard(db);
  });
  afterAll(async () => {
    await handle?.close();
  });

  // An allowed change (bob leaves, frank becomes owner) gets a world of its own so it disturbs no other
  // cell; the other cells of a row share one, which a refusal leaves as it was (that is checked).
  const shared = new Map<string, World>();
  async function worldFor({ label, path, outcome }: Cell): Promise<World> {
    if (outcome === "allowed" && procedures[path]._def.type === "mutation") return seedWorld(db, publisher);
    let world = shared.get(label);
    if (!world) {
      world = await seedWorld(db, publisher);
      shared.set(label, world);
    }
    return world;
  }

  it.each(cells)("$label: $persona is $outcome", async (cell) => {
    const { path, persona, outcome, input } = cell;
    const world = await worldFor(cell);
    const caller = personaOf(world, persona);
    await guard.arm();
    const result = await outcomeOf(procedureOf(callerAs(db, caller), path)(input(world, caller)));
    expect(result.outcome, `${path} as ${persona}: ${result.message ?? "allowed"}`).toBe(outcome);
    if (result.outcome === "allowed") {
      // An outsider is not told about a conversation they were never in, not even its id.
      const answer = JSON.stringify(result.result) ?? "";
      for (const id of conversationsOutside(world, persona)) {
        expect(answer.includes(id), `${path} as ${persona} names conversation ${id}: ${answer.slice(0, 300)}`).toBe(
          false,
        );
      }
    } else {
      await guard.expectUnchanged(`a refused ${path} as ${persona}`);
    }
  });
});
