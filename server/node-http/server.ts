import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { resolveResponse } from "@trpc/server/http";
import { eq, sql } from "drizzle-orm";
import { users } from "@/db/schema";
import type { Db } from "@/db/types";
import { MAX_TRPC_BATCH } from "@/lib/limits";
import { appRouter } from "../api/root";
import type { Context } from "../api/trpc";
import type { SessionUser } from "../auth/options";
import { currentSessionUser, sessionUserFromCookies } from "../auth/session";
import { env } from "../env";
import { storageFromEnv, uploadSpoolDir } from "../files/from-env";
import { logger } from "../logger";
import { handlePusherWebhook, type WebhookCredentials } from "../presence/webhook";
import { authorizeChannels, parseChannelAuthRequest } from "../realtime/authorize";
import type { Publisher } from "../realtime/publisher";
import { authenticateSocket, parseUserAuthRequest } from "../realtime/user-auth";
import { findAvatar } from "../users/avatar";
import { requireSiteAdmin } from "../admin/admins";
import { AppError, isDatabaseUnavailable } from "../errors";
import { exportFileName, userExport } from "../export/export";
import { BodyTooLargeError, readBody } from "./body";
import { downloadFile, type FileDeps, fileTarget, uploadFile } from "./files";
import { clientIp, crossSiteRefusal, isJson } from "./guards";
import { isSingleCall, resolveSingleCall } from "./trpc-single";

const log = logger.child({ domain: "http" });

export type ApiDeps = {
  db: Db;
  publisher: Publisher;
  authSecret: string;
  webhook: WebhookCredentials;
  /** Extra headers on every API answer (security headers). */
  headers?: (req: IncomingMessage) => Record<string, string>;
  /** Upload storage and limits; from the environment when unset. */
  files?: Pick<FileDeps, "storage" | "uploadMaxBytes" | "spoolDir">;
};

export type ChorusServerOptions = ApiDeps & {
  /** Everything that is not the API: pages, next-auth's routes, assets. */
  next: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Next's dev-mode websocket (hot reload). */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
};

function send(res: ServerResponse, status: number, body: unknown, deps: ApiDeps) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...deps.headers?.(res.req),
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, code: string, message: string, deps: ApiDeps) {
  // Same shape as a tRPC error, so every client reads every refusal alike.
  send(res, status, { error: { message, code } }, deps);
}

/** Reads the body, answering 413 (and closing the connection) when it is too large. */
async function bodyOrRefuse(req: IncomingMessage, res: ServerResponse, deps: ApiDeps): Promise<string | null> {
  try {
    return await readBody(req);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    res.setHeader("connection", "close");
    refuse(res, 413, "PAYLOAD_TOO_LARGE", error.message, deps);
    res.once("finish", () => req.destroy());
    return null;
  }
}

async function health(res: ServerResponse, deps: ApiDeps) {
  try {
    await deps.db.execute(sql`select 1`);
    send(res, 200, { ok: true }, deps);
  } catch (error) {
    log.error({ err: error }, "health check failed");
    send(res, 503, { ok: false }, deps);
  }
}

// A request nobody aborts: tRPC reads `signal`, and building a fetch Request per call costs more than the call.
const neverAborted = new AbortController().signal;

/**
 * The parts of a fetch Request tRPC's resolveResponse reads for JSON calls
 * (url, method, headers, signal, json()); the body was already read and capped.
 */
function trpcRequest(req: IncomingMessage, headers: Headers, body: string | undefined): Request {
  return {
    url: `http://localhost${req.url ?? "/"}`,
    method: req.method ?? "GET",
    headers,
    signal: neverAborted,
    body: null,
    json: async () => JSON.parse(body ?? ""),
    text: async () => body ?? "",
  } as unknown as Request;
}

async function trpc(req: IncomingMessage, res: ServerResponse, path: string, deps: ApiDeps) {
  let body: string | undefined;
  if (req.method === "POST") {
    const refusal = crossSiteRefusal(req.headers);
    if (refusal) return refuse(res, 403, "FORBIDDEN", refusal, deps);
    if (!isJson(req.headers)) {
      return refuse(res, 415, "UNSUPPORTED_MEDIA_TYPE", "Send tRPC calls as application/json", deps);
    }
    const read = await bodyOrRefuse(req, res, deps);
    if (read === null) return;
    body = read;
  }
  const ctx: Context = {
    db: deps.db,
    publisher: deps.publisher,
    user: await sessionUserFromCookies(req.headers.cookie, deps.authSecret),
    ip: clientIp(req.headers, req.socket.remoteAddress),
  };
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  const search = new URLSearchParams(query === -1 ? "" : url.slice(query + 1));
  if (isSingleCall(req.method, path, search, req.headers)) {
    const answer = await resolveSingleCall(
      appRouter,
      { method: req.method ?? "GET", path, queryInput: search.get("input"), body },
      ctx,
    );
    if (answer) {
      res.writeHead(answer.status, {
        ...deps.headers?.(req),
        "cache-control": "no-store",
        "content-type": "application/json",
        vary: "trpc-accept, accept",
        "content-length": Buffer.byteLength(answer.body),
      });
      res.end(answer.body);
      return;
    }
  }
  // Batches and streams: tRPC's core speaks fetch: hand it only what it reads (method, URL,
  // content type, body), and write its answer in one piece rather than streaming it chunk by chunk.
  const headers = new Headers();
  for (const name of ["content-type", "trpc-accept", "accept"]) {
    const value = req.headers[name];
    if (typeof value === "string") headers.set(name, value);
  }
  const response = await resolveResponse({
    router: appRouter,
    req: trpcRequest(req, headers, body),
    path,
    maxBatchSize: MAX_TRPC_BATCH,
    error: null,
    createContext: async () => ctx,
  });
  // A string body goes out with the headers in one socket write (a Buffer would take a writev).
  const payload = await response.text();
  const answer: Record<string, string | number> = { ...deps.headers?.(req), "cache-control": "no-store" };
  for (const [name, value] of response.headers) answer[name] = value;
  answer["content-length"] = Buffer.byteLength(payload);
  res.writeHead(response.status, answer);
  res.end(payload);
}

type SignedInPost = { user: SessionUser; body: string; contentType: string };

/**
 * The common door of Soketi's auth endpoints: POST only, from this app's own
 * pages, a capped body, a signed-in user. Null once it has answered a refusal.
 */
async function signedInPost(req: IncomingMessage, res: ServerResponse, deps: ApiDeps): Promise<SignedInPost | null> {
  if (req.method !== "POST") {
    refuse(res, 405, "METHOD_NOT_SUPPORTED", "Use POST", deps);
    return null;
  }
  const refusal = crossSiteRefusal(req.headers);
  if (refusal) {
    refuse(res, 403, "FORBIDDEN", refusal, deps);
    return null;
  }
  const body = await bodyOrRefuse(req, res, deps);
  if (body === null) return null;
  const user = await currentSessionUser(req.headers.cookie, deps.authSecret, deps.db);
  if (!user) {
    send(res, 401, { error: "Sign in first" }, deps);
    return null;
  }
  return { user, body, contentType: String(req.headers["content-type"] ?? "") };
}

async function channelAuth(req: IncomingMessage, res: ServerResponse, deps: ApiDeps) {
  const post = await signedInPost(req, res, deps);
  if (!post) return;
  const parsed = parseChannelAuthRequest(post.contentType, post.body);
  if ("error" in parsed) return send(res, 400, { error: parsed.error }, deps);
  const results = await authorizeChannels(deps.db, deps.publisher, post.user.id, parsed.socketId, parsed.channels);
  if (parsed.batch) return send(res, 200, { channels: results }, deps);
  const result = results[parsed.channels[0]];
  if ("auth" in result) return send(res, 200, result, deps);
  send(res, result.status, { error: result.error }, deps);
}

async function userAuth(req: IncomingMessage, res: ServerResponse, deps: ApiDeps) {
  const post = await signedInPost(req, res, deps);
  if (!post) return;
  const parsed = parseUserAuthRequest(post.contentType, post.body);
  if ("error" in parsed) return send(res, 400, { error: parsed.error }, deps);
  send(res, 200, authenticateSocket(deps.publisher, { userId: post.user.id, socketId: parsed.socketId }), deps);
}

async function webhook(req: IncomingMessage, res: ServerResponse, deps: ApiDeps) {
  if (req.method !== "POST") return refuse(res, 405, "METHOD_NOT_SUPPORTED", "Use POST", deps);
  const body = await bodyOrRefuse(req, res, deps);
  if (body === null) return;
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const answer = await handlePusherWebhook(
    { rawBody: body, key: header("x-pusher-key"), signature: header("x-pusher-signature") },
    { db: deps.db, publisher: deps.publisher, credentials: deps.webhook },
  );
  send(res, answer.status, answer.body, deps);
}

/** /api/files (POST, upload) and /api/files/{id}[/thumbnail] (GET, download): signed in, own origin for the upload. */
async function filesDoor(req: IncomingMessage, res: ServerResponse, pathname: string, deps: ApiDeps) {
  const upload = pathname === "/api/files";
  const target = upload ? null : fileTarget(pathname);
  if (!upload && !target) return refuse(res, 404, "NOT_FOUND", "File not found", deps);
  const allowed = upload ? ["POST"] : ["GET", "HEAD"];
  if (!allowed.includes(req.method ?? "")) return refuse(res, 405, "METHOD_NOT_SUPPORTED", `Use ${allowed[0]}`, deps);
  if (upload) {
    const refusal = crossSiteRefusal(req.headers);
    if (refusal) return refuse(res, 403, "FORBIDDEN", refusal, deps);
  }
  const user = await currentSessionUser(req.headers.cookie, deps.authSecret, deps.db);
  if (!user) return refuse(res, 401, "UNAUTHORIZED", "Sign in first", deps);
  const fileDeps: FileDeps = {
    db: deps.db,
    headers: deps.headers,
    ...(deps.files ?? { storage: storageFromEnv(), uploadMaxBytes: env.UPLOAD_MAX_BYTES, spoolDir: uploadSpoolDir() }),
  };
  const answer = (status: number, body: unknown) => send(res, status, body, deps);
  if (upload) return uploadFile(req, res, user, fileDeps, answer);
  if (target) return downloadFile(req, res, user, target, fileDeps, answer);
}

const AVATAR_PATH = /^\/api\/avatars\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A user's uploaded avatar, to signed-in users; the URL carries a version, so it caches for long. */
async function avatar(req: IncomingMessage, res: ServerResponse, userId: string, deps: ApiDeps) {
  if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, "METHOD_NOT_SUPPORTED", "Use GET", deps);
  const viewer = await currentSessionUser(req.headers.cookie, deps.authSecret, deps.db);
  if (!viewer) return refuse(res, 401, "UNAUTHORIZED", "Sign in first", deps);
  const found = await findAvatar(deps.db, userId);
  if (!found) return refuse(res, 404, "NOT_FOUND", "No avatar", deps);
  res.writeHead(200, {
    ...deps.headers?.(req),
    "content-type": found.contentType,
    "content-length": found.image.length,
    "cache-control": "private, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : found.image);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * GET /api/export: the signed-in person's data as a zip, streamed as it is
 * made; `?userId=` exports someone else's, for site admins only.
 */
async function dataExport(req: IncomingMessage, res: ServerResponse, deps: ApiDeps) {
  if (req.method !== "GET") return refuse(res, 405, "METHOD_NOT_SUPPORTED", "Use GET", deps);
  const viewer = await currentSessionUser(req.headers.cookie, deps.authSecret, deps.db);
  if (!viewer) return refuse(res, 401, "UNAUTHORIZED", "Sign in first", deps);
  const asked = new URL(req.url ?? "/", "http://localhost").searchParams.get("userId");
  if (asked !== null && !UUID.test(asked)) return refuse(res, 400, "BAD_REQUEST", "userId must be a UUID", deps);
  const userId = asked ?? viewer.id;
  try {
    if (userId !== viewer.id) await requireSiteAdmin(deps.db, viewer.id);
    const [user] = await deps.db.select({ username: users.username }).from(users).where(eq(users.id, userId)).limit(1);
    if (!user) throw new AppError("NOT_FOUND", "No such user");
    const chunks = userExport(deps.db, userId);
    const first = await chunks.next();
    res.writeHead(200, {
      ...deps.headers?.(req),
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${exportFileName(user.username)}"`,
      "cache-control": "no-store",
    });
    if (!first.done) res.write(first.value);
    for await (const chunk of chunks) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
    log.info({ viewerId: viewer.id, userId }, "data exported");
  } catch (error) {
    if (error instanceof AppError && !res.headersSent) {
      const status = error.code === "FORBIDDEN" ? 403 : error.code === "NOT_FOUND" ? 404 : 400;
      return refuse(res, status, error.code, error.message, deps);
    }
    throw error;
  }
}

const TRPC_PREFIX = "/api/trpc/";

/**
 * The API's request handler: tRPC, channel auth, socket sign-in, Soketi's webhooks and
 * health straight on node:http, sharing the process's database handle and
 * publisher; null for everything else (Next.js serves it).
 */
export function apiHandler(deps: ApiDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const pathname = query === -1 ? url : url.slice(0, query);
    try {
      if (pathname.startsWith(TRPC_PREFIX)) {
        let path: string;
        try {
          path = decodeURIComponent(pathname.slice(TRPC_PREFIX.length));
        } catch {
          refuse(res, 400, "BAD_REQUEST", "The procedure path is malformed", deps);
          return true;
        }
        await trpc(req, res, path, deps);
      } else if (pathname === "/api/pusher/auth") await channelAuth(req, res, deps);
      else if (pathname === "/api/pusher/user-auth") await userAuth(req, res, deps);
      else if (pathname === "/api/pusher/webhook") await webhook(req, res, deps);
      else if (pathname === "/api/health") await health(res, deps);
      else if (pathname === "/api/files" || pathname.startsWith("/api/files/"))
        await filesDoor(req, res, pathname, deps);
      else if (pathname === "/api/export") await dataExport(req, res, deps);
      else if (AVATAR_PATH.test(pathname)) await avatar(req, res, AVATAR_PATH.exec(pathname)?.[1] as string, deps);
      else return false;
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        // Channel auth, socket sign-in and export read the session's standing: an outage says so, as tRPC does.
        log.warn({ err: error, path: pathname }, "request failed: database unavailable");
        if (!res.headersSent) {
          refuse(res, 503, "SERVICE_UNAVAILABLE", "The database is unavailable right now. Please retry shortly.", deps);
        } else res.destroy();
        return true;
      }
      log.error({ err: error, path: pathname }, "request failed");
      if (!res.headersSent)
        refuse(res, 500, "INTERNAL_SERVER_ERROR", "Something went wrong on our side. Please try again.", deps);
      else res.destroy();
    }
    return true;
  };
}

/** The one HTTP server of a Chorus process: the lean API path first, Next.js for the rest. */
export function createChorusServer(options: ChorusServerOptions): Server {
  const api = apiHandler(options);
  const server = createServer((req, res) => {
    void api(req, res).then((handled) => {
      if (handled) return;
      options.next(req, res).catch((error: unknown) => {
        log.error({ err: error, url: req.url }, "page request failed");
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  });
  if (options.upgrade) {
    const upgrade = options.upgrade;
    server.on("upgrade", (req, socket, head) => {
      upgrade(req, socket, head).catch((error: unknown) => {
        log.error({ err: error }, "upgrade failed");
        socket.destroy();
      });
    });
  }
  // Keep-alive longer than typical proxies' idle timeouts, so they never reuse a socket we just closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
