// Built with the server (scripts/start.mjs): the embedded database as a fresh
// install has it, migrated, as a tarball. A new PGlite folder is loaded from it
// (createDb's pgliteTemplate) instead of running initdb at first start: initdb in
// WebAssembly took 5 of a first start's 8 s here and grew PGlite's memory by
// ~400 MB that WebAssembly never gives back.
import { writeFileSync } from "node:fs";
import { pgliteSettings } from "./client";
import { migrationsFolder } from "./migrate";

export async function writePgliteTemplate(file: string, folder = migrationsFolder): Promise<number> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const client = new PGlite("memory://", await pgliteSettings());
  try {
    await migrate(drizzle(client), { migrationsFolder: folder });
    // Written as it is: a tarball loads faster than its gzip, and it lives in the build folder.
    const tarball = await client.dumpDataDir("none");
    const bytes = Buffer.from(await tarball.arrayBuffer());
    writeFileSync(file, bytes);
    return bytes.length;
  } finally {
    await client.close();
  }
}

const out = process.argv[2];
if (out && process.argv[1]?.endsWith("pglite-template.mjs")) {
  await writePgliteTemplate(out);
}
