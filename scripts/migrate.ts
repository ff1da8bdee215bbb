// `npm run db:migrate`: applies committed migrations to the configured database
// (the app also does this at start-up).
import { createDb } from "../db/client";
import { migrate } from "../db/migrate";
import { env } from "../server/env.js";

const handle = await createDb({ databaseUrl: env.DATABASE_URL, pgliteDir: env.PGLITE_DIR, maxConnections: 1 });
try {
  await migrate(handle);
  console.log(`migrations applied (${handle.driver})`);
} finally {
  await handle.close();
}
