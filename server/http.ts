// Request bodies Chorus accepts are small; refuse big ones before parsing.
export const MAX_REQUEST_BYTES = 256 * 1024;

export function tooLarge(req: Request): Response | null {
  const length = Number(req.headers.get("content-length") ?? 0);
  if (length > MAX_REQUEST_BYTES) {
    return Response.json(
      { error: { message: `Request body is larger than ${MAX_REQUEST_BYTES} bytes`, code: "PAYLOAD_TOO_LARGE" } },
      { status: 413 },
    );
  }
  return null;
}

export function clientIp(req: Request): string | undefined {
  return req.headers.get("x-forwarded-for")?.split(",")[0]?.trim() || req.headers.get("x-real-ip") || undefined;
}
