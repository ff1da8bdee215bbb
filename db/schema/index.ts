import { pgSequence } from "drizzle-orm/pg-core";

export * from "./conversations";
export * from "./files";
export * from "./members";
export * from "./messages";
export * from "./outbox";
export * from "./push";
export * from "./users";

// One global sequence stamps every group and member change (DESIGN invariant 6).
export const versionSeq = pgSequence("chorus_version_seq", { startWith: 1, increment: 1 });
