import type { SQL } from "drizzle-orm";
import { PgDialect, PgTransaction } from "drizzle-orm/pg-core";
import { rowsOf } from "./client";
import type { Db, DbOrTx } from "./types";

// Prepared per database handle: drizzle builds the SQL once instead of on
// every call (on the hottest reads that is a third of their CPU).
const preparedByDb = new WeakMap<object, Map<string, unknown>>();

/**
 * The statement `build` prepares on `db`, made once per handle and name. In a
 * transaction the statement is built afresh (a prepared query is bound to the handle it came from).
 */
export function prepared<T>(db: DbOrTx, name: string, build: (db: DbOrTx) => T): T {
  if (db instanceof PgTransaction) return build(db);
  let statements = preparedByDb.get(db);
  if (!statements) {
    statements = new Map();
    preparedByDb.set(db, statements);
  }
  let statement = statements.get(name) as T | undefined;
  if (!statement) {
    statement = build(db);
    statements.set(name, statement);
  }
  return statement;
}

type RawStatement = { execute: (values: Record<string, unknown>) => Promise<unknown> };

// Raw statements use no table or column names, so the default dialect renders them alike on both drivers.
const dialect = new PgDialect();

const renderedByName = new Map<string, ReturnType<PgDialect["sqlToQuery"]>>();

/** The text and parameters (placeholders among them) of a raw statement, rendered once per name. */
export function renderedStatement(name: string, build: () => SQL): ReturnType<PgDialect["sqlToQuery"]> {
  let rendered = renderedByName.get(name);
  if (!rendered) {
    rendered = dialect.sqlToQuery(build());
    renderedByName.set(name, rendered);
  }
  return rendered;
}

/**
 * A raw statement with `sql.placeholder`s, rendered once per name (drizzle
 * otherwise rebuilds a long statement's text on every call: on a send, a
 * fifth of the request's CPU) and kept prepared; rows of each execution.
 * In a transaction only the cheap query object is made afresh.
 */
export async function preparedRows<T extends Record<string, unknown>>(
  db: DbOrTx,
  name: string,
  build: () => SQL,
  values: Record<string, unknown>,
): Promise<T[]> {
  const query = renderedStatement(name, build);
  const statement = prepared(db, name, (d) =>
    (d as Db)._.session.prepareQuery(query, undefined, name, false),
  ) as RawStatement;
  return rowsOf<T>(await statement.execute(values));
}
