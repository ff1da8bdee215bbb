import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["**/*.test.ts"],
    // Every build folder (.next, .next-bench, .next-e2e-*) carries copies of packages with their own tests.
    exclude: ["**/node_modules/**", "e2e/**", "cluster/**", ".next*/**", "data/**", "test-results*/**"],
    environment: "node",
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { NODE_ENV: "test" },
    setupFiles: ["./db/testing.setup.ts"],
  },
});
