// The API floor's yardstick: a bare node:http server that answers every
// request with one `select 1` over postgres.js (the driver Chorus uses, the
// same pool size), started by the bench as a process of its own.
// FLOOR_DATABASE_URL names the database; it listens on a free loopback port
// and tells the parent which one over IPC.
import http from "node:http";
import postgres from "postgres";

const sql = postgres(process.env.FLOOR_DATABASE_URL ?? "", {
  max: Number(process.env.FLOOR_POOL_SIZE ?? 20),
  onnotice: () => {},
});

const server = http.createServer(async (_req, res) => {
  try {
    await sql`select 1`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
  } catch (error) {
    res.writeHead(503, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: false, error: String(error) }));
  }
});
server.keepAliveTimeout = 65_000;

server.listen(0, "127.0.0.1", async () => {
  await sql`select 1`;
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});

process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void sql.end({ timeout: 2 }).then(() => process.exit(0));
});
