import { type NextRequest, NextResponse } from "next/server";
import { realtimeClientConfig } from "@/server/realtime/config";
import { apiSecurityHeaders, newNonce, pageSecurityHeaders, servedOverHttps } from "@/server/security/headers";

// Security headers for everything Next.js answers. Pages get a CSP with a
// fresh nonce: Next.js reads it from the request's CSP header and puts it on
// the scripts it renders (every page is rendered per request already).
export function proxy(request: NextRequest) {
  const https = servedOverHttps(request.headers.get("x-forwarded-proto")) || request.nextUrl.protocol === "https:";
  if (request.nextUrl.pathname.startsWith("/api/")) {
    const response = NextResponse.next();
    for (const [name, value] of Object.entries(apiSecurityHeaders({ https }))) response.headers.set(name, value);
    return response;
  }
  const headers = pageSecurityHeaders({
    nonce: newNonce(),
    pageHost: hostName(request.headers.get("x-forwarded-host") ?? request.headers.get("host") ?? "localhost"),
    realtime: realtimeClientConfig(),
    https,
    dev: process.env.NODE_ENV === "development",
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("Content-Security-Policy", headers["Content-Security-Policy"]);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

function hostName(hostHeader: string): string {
  const first = hostHeader.split(",")[0].trim();
  if (first.startsWith("[")) return first.slice(0, first.indexOf("]") + 1);
  return first.split(":")[0];
}

export const config = {
  // Static build files carry no document; they are hashed and need no nonce.
  matcher: [{ source: "/((?!_next/static|_next/image|favicon.ico).*)" }],
};
