import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { isPublicAddress } from "./address";

export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export type SafeFetchOptions = {
  /** host:port pairs that may be private (tests' local pages); never needed in production. */
  allowHosts?: string[];
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  resolve?: Resolver;
};

export class PreviewRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "PreviewRefused";
  }
}

export type FetchedPage = { url: string; html: string };

const defaultResolve: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

const defaultPort = (url: URL) => url.port || (url.protocol === "https:" ? "443" : "80");

/**
 * Fetches an HTML page for a link preview without letting a message reach
 * inside the network: the host is resolved ONCE and every address it
 * resolves to must be public, and the connection goes to that checked
 * address (a second DNS answer cannot rebind it). Redirects are followed by
 * hand and each hop is checked again. Everything has a deadline, a byte cap
 * (the head of a page holds its preview) and must be HTML.
 */
export async function fetchPreviewPage(rawUrl: string, options: SafeFetchOptions = {}): Promise<FetchedPage> {
  const deadline = AbortSignal.timeout(options.timeoutMs ?? 5000);
  let url = new URL(rawUrl);
  for (let hop = 0; ; hop++) {
    const answer = await requestOnce(url, options, deadline);
    const status = answer.statusCode ?? 0;
    if (status >= 300 && status < 400 && answer.headers.location) {
      answer.destroy();
      if (hop >= (options.maxRedirects ?? 5)) throw new PreviewRefused("too many redirects");
      url = new URL(answer.headers.location, url);
      continue;
    }
    if (status !== 200) {
      answer.destroy();
      throw new PreviewRefused(`status ${status}`);
    }
    const type = String(answer.headers["content-type"] ?? "")
      .split(";")[0]
      .trim()
      .toLowerCase();
    if (type !== "text/html" && type !== "application/xhtml+xml") {
      answer.destroy();
      throw new PreviewRefused(`not HTML (${type || "no type"})`);
    }
    return { url: url.toString(), html: await readCapped(answer, options.maxBytes ?? 1024 * 1024, deadline) };
  }
}

async function pinnedAddress(url: URL, options: SafeFetchOptions): Promise<{ address: string; family: number }> {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new PreviewRefused("not http(s)");
  if (url.username || url.password) throw new PreviewRefused("credentials in the link");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const allowed = (options.allowHosts ?? []).includes(`${host}:${defaultPort(url)}`);
  const addresses = ipaddr.isValid(host)
    ? [{ address: host, family: ipaddr.parse(host).kind() === "ipv6" ? 6 : 4 }]
    : await (options.resolve ?? defaultResolve)(host).catch(() => {
        throw new PreviewRefused("host not found");
      });
  if (addresses.length === 0) throw new PreviewRefused("host not found");
  // Every address, not just the first: the connection must not be steerable to a bad one.
  if (!allowed && !addresses.every((a) => isPublicAddress(a.address))) {
    throw new PreviewRefused("address not public");
  }
  return addresses[0];
}

async function requestOnce(url: URL, options: SafeFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const pinned = await pinnedAddress(url, options);
  // Hand the socket the checked address instead of letting it resolve the name again.
  const lookup: LookupFunction = (_host, opts, callback) => {
    if ((opts as { all?: boolean }).all) callback(null, [pinned] as never);
    else callback(null, pinned.address, pinned.family);
  };
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        lookup,
        signal,
        headers: {
          "user-agent": "ChorusLinkPreview/1.0",
          accept: "text/html,application/xhtml+xml;q=0.9",
          "accept-encoding": "identity",
        },
      },
      resolve,
    );
    req.on("error", (error) => reject(signal.aborted ? new PreviewRefused("timed out") : error));
    req.end();
  });
}

function readCapped(answer: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      answer.destroy();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    answer.on("data", (chunk: Buffer) => {
      const room = maxBytes - size;
      chunks.push(room < chunk.length ? chunk.subarray(0, room) : chunk);
      size += Math.min(room, chunk.length);
      // Past the cap: what we have is the page's head, which is all a preview needs.
      if (size >= maxBytes) done();
    });
    answer.on("end", done);
    answer.on("error", (error) => reject(signal.aborted ? new PreviewRefused("timed out") : error));
    signal.addEventListener("abort", () => answer.destroy(new PreviewRefused("timed out")), { once: true });
  });
}
