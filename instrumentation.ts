// Runs once when a Next.js server starts (not during `next build`): opens and
// migrates the database and starts the background workers of this instance.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Self-hosted behind any proxy: trust the Host header unless NEXTAUTH_URL is set.
  process.env.AUTH_TRUST_HOST ??= "true";
  const { startServerRuntime } = await import("./server/runtime");
  await startServerRuntime();
}
