// Built with the server (scripts/start.mjs): the embedded database as a fresh
// install has it, migrated, as a tarball. A new PGlite folder is loaded from it
// (createDb's pgliteTemplate) instead of running initdb at first start: initdb in
// WebAssembly took 5 of a first start's 8.6 s on a busy machine, and the
// server idled about 110 MB larger after it (WebAssembly never gives memory back).
import { writeFileSync } from "node:fs";
import type { PGlite } from "@electric-sql/pglite";
import { createDb } from "./client";
import { migrate, migrationsFolder } from "./migrate";

export async function writePgliteTemplate(file: string, folder = migrationsFolder): Promise<number> {
  const handle = await createDb({ pgliteDir: "memory://" });
  try {
    await migrate(handle, folder);
    const client = (handle.db as unknown as { $client: PGlite }).$client;
    // Written as it is: a tarball loads faster than its gzip, and it lives in the build folder.
    const bytes = Buffer.from(await (await client.dumpDataDir("none")).arrayBuffer());
    writeFileSync(file, bytes);
    return bytes.length;
  } finally {
    await handle.close();
  }
}

const out = process.argv[2];
if (out && process.argv[1]?.endsWith("pglite-template.mjs")) {
  await writePgliteTemplate(out);
}
