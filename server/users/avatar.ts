import { eq, sql } from "drizzle-orm";
import sharp from "sharp";
import { z } from "zod";
import { userAvatars, users } from "@/db/schema";
import type { Db, DbOrTx } from "@/db/types";
import { AVATAR_PIXELS, MAX_AVATAR_UPLOAD_BYTES } from "@/lib/limits";
import { AppError } from "../errors";
import { me } from "./profile";
import type { PublicUser } from "../auth/accounts";

// Base64 of at most MAX_AVATAR_UPLOAD_BYTES (4 characters per 3 bytes, padded).
const MAX_BASE64_CHARS = Math.ceil(MAX_AVATAR_UPLOAD_BYTES / 3) * 4;

export const setAvatarInput = z.object({
  image: z
    .string("The image must be base64 text")
    .max(MAX_BASE64_CHARS, `The image must be at most ${MAX_AVATAR_UPLOAD_BYTES / 1024} KB`)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, "The image must be base64 text")
    .nullable(),
});

// Decoding a crafted image costs memory by its pixel count, not its file size.
const MAX_INPUT_PIXELS = 40_000_000;
const ACCEPTED = new Set(["jpeg", "png", "webp", "gif", "avif"]);

/** Any accepted image, re-encoded as a small square WebP: nothing of the upload but its pixels survives. */
export async function resizeAvatar(upload: Buffer): Promise<Buffer> {
  let format: string | undefined;
  try {
    format = (await sharp(upload, { limitInputPixels: MAX_INPUT_PIXELS }).metadata()).format;
  } catch {
    throw new AppError("BAD_REQUEST", "That file is not an image Chorus can read");
  }
  if (!format || !ACCEPTED.has(format)) {
    throw new AppError("BAD_REQUEST", "Use a JPEG, PNG, WebP, GIF or AVIF image");
  }
  try {
    return await sharp(upload, { limitInputPixels: MAX_INPUT_PIXELS, animated: false })
      .rotate()
      .resize(AVATAR_PIXELS, AVATAR_PIXELS, { fit: "cover" })
      .webp({ quality: 80 })
      .toBuffer();
  } catch {
    throw new AppError("BAD_REQUEST", "That image is damaged or too large to read");
  }
}

/** Where the avatar is served; the version makes browsers fetch a new one after a change. */
export const avatarPath = (userId: string, version: number) => `/api/avatars/${userId}?v=${version}`;

/** Sets (or with null removes) the user's uploaded avatar. */
export async function setAvatar(db: Db, userId: string, input: z.infer<typeof setAvatarInput>): Promise<PublicUser> {
  if (input.image === null) {
    await db.transaction(async (tx) => {
      await tx.delete(userAvatars).where(eq(userAvatars.userId, userId));
      await tx.update(users).set({ avatarUrl: null }).where(eq(users.id, userId));
    });
    return me(db, userId);
  }
  const upload = Buffer.from(input.image, "base64");
  if (upload.length === 0) throw new AppError("BAD_REQUEST", "The image is empty");
  const image = await resizeAvatar(upload);
  const version = Date.now();
  await db.transaction(async (tx) => {
    await tx
      .insert(userAvatars)
      .values({ userId, contentType: "image/webp", image })
      .onConflictDoUpdate({
        target: userAvatars.userId,
        set: { image, contentType: "image/webp", updatedAt: sql`now()` },
      });
    await tx
      .update(users)
      .set({ avatarUrl: avatarPath(userId, version) })
      .where(eq(users.id, userId));
  });
  return me(db, userId);
}

/** The stored avatar of a user, or null. */
export async function findAvatar(db: DbOrTx, userId: string): Promise<{ contentType: string; image: Buffer } | null> {
  const [row] = await db
    .select({ contentType: userAvatars.contentType, image: userAvatars.image })
    .from(userAvatars)
    .where(eq(userAvatars.userId, userId))
    .limit(1);
  return row ?? null;
}
