import "./server/env.js";

/** @type {import("next").NextConfig} */
const nextConfig = {
  // Lets two builds (e2e and bench, say) live side by side in one checkout.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  reactStrictMode: true,
  poweredByHeader: false,
  // Native or self-managing packages stay out of the bundle; PGlite must load from node_modules.
  serverExternalPackages: ["@electric-sql/pglite", "@node-rs/argon2", "pino", "postgres", "@soketi/soketi", "pusher"],
  // `npm run typecheck` checks types; the build need not do it twice.
  typescript: { ignoreBuildErrors: true },
  // Pages load on first request instead of all at start: a small server's memory goes to the database.
  experimental: { preloadEntriesOnStart: false },
};

export default nextConfig;
