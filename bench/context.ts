import type { BaselineServer, baselineClient } from "./baseline/naive";
import type { Sizes } from "./sizes";
import type { Table } from "./stats";
import type { Session, Target } from "./target";

export type BenchContext = {
  target: Target;
  sizes: Sizes;
  log: (line: string) => void;
  /** Signed-in users, reused by every section (pool[0] sends, the first N connect). */
  pool: Session[];
  baseline: { server: BaselineServer; client: ReturnType<typeof baselineClient> };
};

export type SectionResult = { tables: Table[]; data: Record<string, unknown> };

let counter = 0;
export const clientMsgId = (tag: string) => `bench-${tag}-${Date.now().toString(36)}-${++counter}`;
