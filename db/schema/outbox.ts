import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";

// Written in the same transaction as the change it announces; published after commit.
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    channels: text("channels").array().notNull(),
    event: text("event").notNull(),
    payload: jsonb("payload").$type<unknown>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp("processed_at", { withTimezone: true }),
    lastError: text("last_error"),
    // message.new only: when the push planner took it (after it was published).
    pushPlannedAt: timestamp("push_planned_at", { withTimezone: true }),
  },
  (t) => [
    // The retry worker's scan: pending rows due now.
    index("outbox_pending_idx").on(t.nextAttemptAt).where(sql`${t.processedAt} is null`),
    // The push planner's scan: published messages not yet planned.
    index("outbox_push_pending_idx").on(t.id).where(sql`${t.event} = 'message.new' and ${t.pushPlannedAt} is null`),
  ],
);

export type OutboxRow = typeof outbox.$inferSelect;

// Each running app process, renewed every few seconds: the admin area lists their versions.
export const appInstances = pgTable("app_instances", {
  id: text("id").primaryKey(),
  version: text("version").notNull(),
  node: text("node").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
  seenAt: timestamp("seen_at", { withTimezone: true }).notNull(),
});
