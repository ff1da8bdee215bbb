// No imports: server/main.ts checks this before loading config or Soketi.

/** Why the embedded Soketi cannot run on this Node version, or null when it can. */
export function soketiNodeProblem(nodeVersion: string): string | null {
  if (Number(nodeVersion.split(".")[0]) === 20) return null;
  return (
    `The embedded Soketi needs Node.js 20 (its uWebSockets.js build exists for Node 20 only); this is Node ${nodeVersion}. ` +
    "Either run Chorus with Node 20 (for example `nvm use 20`), or run Soketi yourself and set PUSHER_HOST, PUSHER_PORT and PUSHER_SECRET to use it."
  );
}
