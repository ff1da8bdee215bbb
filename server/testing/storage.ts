import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { type FileStorage, localStorage, s3Storage } from "../files/storage";

export const testStorages = ["local", "s3"] as const;
export type TestStorageKind = (typeof testStorages)[number];

export type TestStorage = {
  storage: FileStorage;
  spoolDir: string;
  /** Stored objects (file and thumbnail keys). */
  keys: () => Promise<string[]>;
  stop: () => Promise<void>;
};

/** A fresh storage: a folder under DATA_DIR, or a real S3-protocol server (s3rver) on 127.0.0.1 and a free port. */
export async function startTestStorage(kind: TestStorageKind): Promise<TestStorage> {
  const root = path.join(process.env.DATA_DIR ?? "./data/test", `files-${randomBytes(5).toString("hex")}`);
  const spoolDir = path.join(root, "spool");
  const list = async (dir: string) => readdir(dir).catch(() => [] as string[]);
  if (kind === "local") {
    const dir = path.join(root, "files");
    return {
      storage: localStorage(dir),
      spoolDir,
      keys: () => list(dir),
      stop: () => rm(root, { recursive: true, force: true }),
    };
  }
  const bucket = "chorus-test";
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: path.join(root, "s3"),
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = (await server.run()) as { port: number };
  const storage = s3Storage({
    bucket,
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
  });
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${address.port}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  return {
    storage,
    spoolDir,
    keys: async () => {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (listed.Contents ?? []).map((object) => object.Key ?? "");
    },
    stop: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
