// The bench's own HTTP client for API calls: node:http over kept-alive sockets.
// Global fetch cost the load generator about 0.4 ms of CPU per call, as much as
// the app spent answering a send; on two cores that was load taken from the
// server being measured.
import http from "node:http";

const agent = new http.Agent({ keepAlive: true, maxSockets: 512, scheduling: "lifo" });

export type HttpReply = { status: number; text: string };

function once(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { agent, hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** One request; retried once when a kept-alive socket was closed by the server just as it was reused. */
export async function httpCall(
  url: string,
  method: "GET" | "POST",
  headers: Record<string, string>,
  body?: string,
): Promise<HttpReply> {
  const target = new URL(url);
  const sized = body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
  try {
    return await once(target, method, sized, body);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "ECONNRESET" && code !== "EPIPE") throw error;
    return once(target, method, sized, body);
  }
}
