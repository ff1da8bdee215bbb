import { MAX_AVATAR_UPLOAD_BYTES } from "@/lib/limits";

const LONG_SIDE = 512;

/**
 * A chosen photo shrunk in the browser to a JPEG of at most 512 px, as
 * base64: a phone photo of several MB becomes tens of KB before upload. The
 * server decodes and re-encodes it anyway.
 */
export async function shrinkForUpload(file: File): Promise<string> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error("That file is not an image this browser can read");
  }
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  if (!blob) throw new Error("That image could not be read");
  if (blob.size > MAX_AVATAR_UPLOAD_BYTES) throw new Error("That image is too large even when shrunk");
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
