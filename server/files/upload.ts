import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rm, stat } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { fileTypeFromBuffer } from "file-type";
import sharp from "sharp";
import { files } from "@/db/schema";
import type { DbOrTx } from "@/db/types";
import { INLINE_IMAGE_TYPES, MAX_FILE_NAME_CHARS } from "@/lib/limits";
import { AppError } from "../errors";
import { logger } from "../logger";
import type { FileStorage } from "./storage";

const log = logger.child({ domain: "files" });

export type UploadedFile = {
  fileId: string;
  name: string;
  size: number;
  mime: string;
  width?: number;
  height?: number;
};

type Spooled = { tmpPath: string; name: string; size: number };

const THUMBNAIL_PX = 480;
// file-type reads at most this much to decide.
const SNIFF_BYTES = 4100;

/** A file name safe to store and show: no folders, controls or direction overrides, cut to length (extension kept). */
export function cleanFileName(raw: string | undefined): string {
  const base = (raw ?? "").split(/[\\/]/).pop() ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const cleaned = base.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "_").trim();
  const name = cleaned === "" || cleaned === "." || cleaned === ".." ? "file" : cleaned;
  const points = [...name];
  if (points.length <= MAX_FILE_NAME_CHARS) return name;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
  return points.slice(0, MAX_FILE_NAME_CHARS - [...ext].length).join("") + ext;
}

/**
 * Streams the one `file` field of a multipart body to a spool file, counting
 * bytes as they arrive: past `maxBytes` it stops reading and refuses with
 * PAYLOAD_TOO_LARGE, whatever Content-Length claimed.
 */
export async function spoolUpload(
  req: IncomingMessage,
  options: { maxBytes: number; spoolDir: string },
): Promise<Spooled> {
  const declared = Number(req.headers["content-length"] ?? 0);
  // The multipart framing adds a few hundred bytes around the file.
  if (declared > options.maxBytes + 64 * 1024) throw tooLarge(options.maxBytes);
  await mkdir(options.spoolDir, { recursive: true });

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: { files: 1, fileSize: options.maxBytes, fields: 10, fieldSize: 1024, parts: 11 },
      defParamCharset: "utf8",
    });
  } catch {
    throw new AppError("BAD_REQUEST", "Send the file as multipart/form-data with one field named file");
  }

  return new Promise<Spooled>((resolve, reject) => {
    let spooled: Promise<Spooled> | undefined;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      // Stop reading: the rest of a refused body is never written anywhere.
      req.pause();
      reject(error);
    };
    parser.on("file", (field, stream, info) => {
      if (field !== "file" || spooled) {
        stream.resume();
        return fail(new AppError("BAD_REQUEST", "Send exactly one field named file"));
      }
      const tmpPath = path.join(options.spoolDir, `${randomUUID()}.part`);
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
      });
      // Refused once the spool file is removed, so no byte of a refused upload outlives the answer.
      stream.on("limit", () => stream.destroy(tooLarge(options.maxBytes)));
      spooled = pipeline(stream, createWriteStream(tmpPath)).then(
        () => ({ tmpPath, name: cleanFileName(info.filename), size }),
        async (error: unknown) => {
          await rm(tmpPath, { force: true });
          throw error;
        },
      );
      spooled.then(
        // A refusal came after the bytes were written (a second field): drop them.
        (file) => (failed ? rm(file.tmpPath, { force: true }) : undefined),
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
    parser.on("error", () => fail(new AppError("BAD_REQUEST", "The multipart body is malformed")));
    parser.on("close", () => {
      if (failed) return;
      if (!spooled) return fail(new AppError("BAD_REQUEST", "Send exactly one field named file"));
      spooled.then((file) => {
        if (!failed) resolve(file);
      }, fail);
    });
    req.on("error", fail);
    req.pipe(parser);
  });
}

const tooLarge = (max: number) =>
  new AppError("PAYLOAD_TOO_LARGE", `The file is larger than the limit of ${formatBytes(max)}`);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

async function sniff(tmpPath: string): Promise<string> {
  const handle = await open(tmpPath, "r");
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    const type = await fileTypeFromBuffer(head.subarray(0, bytesRead));
    return type?.mime ?? "application/octet-stream";
  } finally {
    await handle.close();
  }
}

export const isInlineImage = (mime: string) => (INLINE_IMAGE_TYPES as readonly string[]).includes(mime);

/**
 * Stores a spooled upload: the type from its bytes, an image's size and a
 * thumbnail, the bytes in storage, then the row (unattached until a send
 * claims it). The spool file is gone afterwards whatever happens.
 */
export async function storeUpload(
  db: DbOrTx,
  storage: FileStorage,
  options: { uploaderId: string; spooled: Spooled },
): Promise<UploadedFile> {
  const { tmpPath, name, size } = options.spooled;
  const id = randomUUID();
  const thumbPath = `${tmpPath}.thumb`;
  const stored: string[] = [];
  try {
    if (size === 0) throw new AppError("BAD_REQUEST", "The file is empty");
    const mime = await sniff(tmpPath);
    let width: number | undefined;
    let height: number | undefined;
    let thumbnailKey: string | null = null;
    if (isInlineImage(mime)) {
      try {
        // Only the first frame of an animation; limitInputPixels refuses decompression bombs.
        const image = sharp(tmpPath, { limitInputPixels: 100_000_000 });
        const meta = await image.metadata();
        width = meta.autoOrient?.width ?? meta.width;
        height = meta.autoOrient?.height ?? meta.height;
        await image
          .rotate()
          .resize(THUMBNAIL_PX, THUMBNAIL_PX, { fit: "inside", withoutEnlargement: true })
          .webp({ quality: 75 })
          .toFile(thumbPath);
      } catch (error) {
        log.info({ err: error, mime }, "image refused");
        throw new AppError("BAD_REQUEST", "This image could not be read");
      }
      thumbnailKey = `${id}.thumb`;
      await storage.putFile(thumbnailKey, thumbPath, { size: (await stat(thumbPath)).size, mime: "image/webp" });
      stored.push(thumbnailKey);
    }
    const storageKey = id;
    await storage.putFile(storageKey, tmpPath, { size, mime });
    stored.push(storageKey);
    await db
      .insert(files)
      .values({ id, uploaderId: options.uploaderId, name, mime, size, width, height, storageKey, thumbnailKey });
    log.info({ fileId: id, size, mime }, "file uploaded");
    return { fileId: id, name, size, mime, ...(width && height ? { width, height } : {}) };
  } catch (error) {
    for (const key of stored)
      await storage.delete(key).catch((e: unknown) => log.error({ err: e, key }, "cleanup failed"));
    throw error;
  } finally {
    await rm(tmpPath, { force: true });
    await rm(thumbPath, { force: true });
  }
}
