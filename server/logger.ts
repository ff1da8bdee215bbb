import pino from "pino";
import { env } from "./env";

/** Structured JSON logs on stdout; child loggers carry the domain. */
export const logger = pino({
  level: env.NODE_ENV === "test" && !process.env.LOG_LEVEL ? "silent" : env.LOG_LEVEL,
  base: { app: "chorus" },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export type Logger = typeof logger;
