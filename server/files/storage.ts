import { createReadStream } from "node:fs";
import { mkdir, rename, rm, copyFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

/** A byte range, both ends inclusive (as HTTP's Range header counts). */
export type ByteRange = { start: number; end: number };

/**
 * Where file bytes live. Keys are opaque ids made by the server (never a
 * user's file name), so no key can climb out of its folder or bucket.
 */
export interface FileStorage {
  readonly kind: "local" | "s3";
  /** Moves (local) or uploads (S3) a finished temporary file under `key`. */
  putFile(key: string, filePath: string, info: { size: number; mime: string }): Promise<void>;
  read(key: string, range?: ByteRange): Promise<Readable>;
  delete(key: string): Promise<void>;
}

const SAFE_KEY = /^[A-Za-z0-9._-]+$/;

function checkedKey(key: string): string {
  if (!SAFE_KEY.test(key) || key.startsWith(".")) throw new Error(`unsafe storage key ${JSON.stringify(key)}`);
  return key;
}

/** The default: a folder on the local disk (DATA_DIR/files), nothing to set up. */
export function localStorage(root: string): FileStorage {
  const dir = path.resolve(root);
  const at = (key: string) => path.join(dir, checkedKey(key));
  return {
    kind: "local",
    async putFile(key, filePath) {
      await mkdir(dir, { recursive: true });
      try {
        await rename(filePath, at(key));
      } catch (error) {
        // The temporary folder may sit on another device.
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
        await copyFile(filePath, at(key));
        await rm(filePath, { force: true });
      }
    },
    async read(key, range) {
      const stream = createReadStream(at(key), range ? { start: range.start, end: range.end } : {});
      // Surface a missing file as a rejection here, not as an error event mid-response.
      await new Promise<void>((resolve, reject) => {
        stream.once("open", () => resolve());
        stream.once("error", reject);
      });
      return stream;
    },
    async delete(key) {
      await rm(at(key), { force: true });
    },
  };
}

export type S3Settings = {
  bucket: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
};

/** S3-compatible storage (AWS, MinIO, Garage, s3rver...), path-style so any endpoint works. */
export function s3Storage(settings: S3Settings): FileStorage {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region ?? "us-east-1",
    forcePathStyle: true,
    // Checksums only where S3 requires them: many S3-compatible servers store aws-chunked framing verbatim.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
  });
  const Bucket = settings.bucket;
  return {
    kind: "s3",
    async putFile(key, filePath, info) {
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: checkedKey(key),
          Body: createReadStream(filePath),
          ContentLength: info.size,
          ContentType: info.mime,
        }),
      );
      await rm(filePath, { force: true });
    },
    async read(key, range) {
      const answer = await client.send(
        new GetObjectCommand({
          Bucket,
          Key: checkedKey(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return answer.Body as Readable;
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: checkedKey(key) }));
    },
  };
}
