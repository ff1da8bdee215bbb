import path from "node:path";
import { env } from "../env";
import { type FileStorage, localStorage, s3Storage } from "./storage";

let storage: FileStorage | undefined;

/** The process's file storage: S3 when S3_BUCKET, S3_ENDPOINT and both keys are set, else DATA_DIR/files. */
export function storageFromEnv(): FileStorage {
  if (storage) return storage;
  const { S3_BUCKET, S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = env;
  const s3 = [S3_BUCKET, S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY];
  if (s3.some(Boolean) && !s3.every(Boolean)) {
    throw new Error("Set all of S3_BUCKET, S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or none");
  }
  storage =
    S3_BUCKET && S3_ENDPOINT && S3_ACCESS_KEY_ID && S3_SECRET_ACCESS_KEY
      ? s3Storage({
          bucket: S3_BUCKET,
          endpoint: S3_ENDPOINT,
          accessKeyId: S3_ACCESS_KEY_ID,
          secretAccessKey: S3_SECRET_ACCESS_KEY,
          region: env.S3_REGION,
        })
      : localStorage(path.join(env.DATA_DIR, "files"));
  return storage;
}

/** Uploads are spooled here while they stream in (always local: type sniffing and thumbnails read the file). */
export const uploadSpoolDir = () => path.join(env.DATA_DIR, "uploads");
