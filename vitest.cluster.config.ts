import path from "node:path";
import { defineConfig } from "vitest/config";

// `npm run test:cluster`: several app instances, two Soketi nodes on Redis and a
// private Postgres, all started by the suite, with faults injected. One file at a time.
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["cluster/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
    env: { NODE_ENV: "test" },
  },
});
