import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Db } from "@/db/types";
import { AppError } from "../errors";
import { readableFile } from "../files/access";
import type { FileStorage, ByteRange } from "../files/storage";
import { isInlineImage, spoolUpload, storeUpload } from "../files/upload";
import { logger } from "../logger";
import type { SessionUser } from "../auth/options";

const log = logger.child({ domain: "files" });

export type FileDeps = {
  db: Db;
  storage: FileStorage;
  uploadMaxBytes: number;
  spoolDir: string;
  headers?: (req: IncomingMessage) => Record<string, string>;
};

type Answer = (status: number, body: unknown, extra?: Record<string, string>) => void;

const STATUS: Record<string, number> = { BAD_REQUEST: 400, PAYLOAD_TOO_LARGE: 413, NOT_FOUND: 404 };

/** POST /api/files: one multipart `file` field from a signed-in user. */
export async function uploadFile(
  req: IncomingMessage,
  res: ServerResponse,
  user: SessionUser,
  deps: FileDeps,
  answer: Answer,
) {
  const type = String(req.headers["content-type"] ?? "").toLowerCase();
  if (!type.startsWith("multipart/form-data")) {
    return answer(415, { error: { code: "UNSUPPORTED_MEDIA_TYPE", message: "Send the file as multipart/form-data" } });
  }
  try {
    const spooled = await spoolUpload(req, { maxBytes: deps.uploadMaxBytes, spoolDir: deps.spoolDir });
    const uploaded = await storeUpload(deps.db, deps.storage, { uploaderId: user.id, spooled });
    answer(201, uploaded);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (error.code === "PAYLOAD_TOO_LARGE") {
      // The rest of the body is never read: close the connection once the refusal is out.
      res.setHeader("connection", "close");
      res.once("finish", () => req.destroy());
    }
    answer(STATUS[error.code] ?? 400, { error: { code: error.code, message: error.message } });
  }
}

/** One `bytes=` range of a file of `size` bytes; undefined for none (or several, served whole); null if unsatisfiable. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return header.includes(",") ? undefined : null;
  const [, from, to] = match;
  if (from === "" && to === "") return null;
  if (from === "") {
    const suffix = Number(to);
    if (suffix === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

function dispositionOf(kind: "inline" | "attachment", name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * GET /api/files/{id}[/thumbnail]: 404 unless the user may see the carrying
 * message. Safe raster images are shown inline; anything else downloads as an
 * attachment, typed so no browser runs it as a page (nosniff, no HTML or SVG).
 */
export async function downloadFile(
  req: IncomingMessage,
  res: ServerResponse,
  user: SessionUser,
  target: { fileId: string; thumbnail: boolean },
  deps: FileDeps,
  answer: Answer,
) {
  const notFound = () => answer(404, { error: { code: "NOT_FOUND", message: "File not found" } });
  const file = await readableFile(deps.db, user.id, target.fileId);
  if (!file) return notFound();
  const common: Record<string, string> = {
    ...Object.fromEntries(Object.entries(deps.headers?.(req) ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    "x-content-type-options": "nosniff",
    // Authorization can change (a member removed): browsers may keep it, shared caches may not.
    "cache-control": "private, max-age=3600",
    "content-security-policy": "default-src 'none'; sandbox",
  };
  if (target.thumbnail) {
    if (!file.thumbnailKey) return notFound();
    const stream = await deps.storage.read(file.thumbnailKey);
    res.writeHead(200, { ...common, "content-type": "image/webp", "content-disposition": "inline" });
    return pipeline(stream, res);
  }
  const inline = isInlineImage(file.mime);
  const range = parseRange(req.headers.range, file.size);
  const headers: Record<string, string | number> = {
    ...common,
    "content-type": inline || !/html|xml|svg|script/i.test(file.mime) ? file.mime : "application/octet-stream",
    "content-disposition": dispositionOf(inline ? "inline" : "attachment", file.name),
    "accept-ranges": "bytes",
  };
  if (range === null) {
    res.writeHead(416, { ...headers, "content-range": `bytes */${file.size}`, "content-length": 0 });
    return void res.end();
  }
  const stream = await deps.storage.read(file.storageKey, range);
  if (range) {
    headers["content-range"] = `bytes ${range.start}-${range.end}/${file.size}`;
    headers["content-length"] = range.end - range.start + 1;
    res.writeHead(206, headers);
  } else {
    headers["content-length"] = file.size;
    res.writeHead(200, headers);
  }
  if (req.method === "HEAD") {
    stream.destroy();
    return void res.end();
  }
  await pipeline(stream, res).catch((error: unknown) => {
    // A client that goes away mid-download is routine.
    if ((error as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") throw error;
    log.debug({ fileId: file.id }, "download aborted by the client");
  });
}

const FILE_PATH = /^\/api\/files\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\/thumbnail)?$/i;

/** The file a GET path names, or null when the path is not one. */
export function fileTarget(pathname: string): { fileId: string; thumbnail: boolean } | null {
  const match = FILE_PATH.exec(pathname);
  return match ? { fileId: match[1].toLowerCase(), thumbnail: Boolean(match[2]) } : null;
}
