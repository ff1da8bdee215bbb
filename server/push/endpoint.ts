import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { env } from "../env";
import { AppError } from "../errors";

/**
 * Push endpoints are URLs a user hands us and the server then fetches: an
 * SSRF risk. Only https endpoints whose every address is public unicast are
 * accepted, checked when subscribing and again on each connection (a DNS
 * answer can change in between). WEB_PUSH_ALLOW_HOSTS lets tests use a local
 * http endpoint; production never needs it.
 */
export type EndpointPolicy = { allowHosts: ReadonlySet<string> };

export function endpointPolicyFromEnv(): EndpointPolicy {
  return {
    allowHosts: new Set(
      env.WEB_PUSH_ALLOW_HOSTS.split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
  };
}

/** Public unicast only: no loopback, private, link-local, CGNAT, multicast, reserved or tunnelled ranges. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === "unicast";
}

/** The URL's host:port as WEB_PUSH_ALLOW_HOSTS names it (the default port spelled out). */
function hostPort(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname.toLowerCase()}:${port}`;
}

export function isAllowListed(url: URL, policy: EndpointPolicy): boolean {
  return policy.allowHosts.has(hostPort(url));
}

export class UnsafeEndpointError extends Error {
  readonly code = "EPUSHADDR";
}

/** Resolves a host to all its addresses and refuses if any is not public. */
export async function resolvePublic(hostname: string): Promise<LookupAddress[]> {
  const bare = hostname.replace(/^\[|\]$/g, "");
  if (isIP(bare)) {
    if (!isPublicAddress(bare)) throw new UnsafeEndpointError(`${hostname} is not a public address`);
    return [{ address: bare, family: isIP(bare) }];
  }
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(bare, { all: true }, (error, list) => (error ? reject(error) : resolve(list))),
  );
  if (addresses.length === 0) throw new UnsafeEndpointError(`${hostname} has no address`);
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad) throw new UnsafeEndpointError(`${hostname} resolves to ${bad.address}, which is not a public address`);
  return addresses;
}

/**
 * A `lookup` for http(s).request that answers only public addresses, so the
 * connection goes where the check looked (no rebinding between check and connect).
 */
export function publicOnlyLookup(
  hostname: string,
  options: { all?: boolean; family?: number | string },
  callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
): void {
  resolvePublic(hostname).then(
    (addresses) => {
      const wanted = options.family === 6 || options.family === "IPv6" ? 6 : options.family === 4 ? 4 : 0;
      const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
      if (usable.length === 0) return callback(new UnsafeEndpointError(`${hostname} has no usable address`), "");
      if (options.all) callback(null, usable);
      else callback(null, usable[0].address, usable[0].family);
    },
    (error: Error) => callback(error, ""),
  );
}

/** Checks an endpoint a browser handed us; refuses with BAD_REQUEST naming what is wrong. */
export async function checkEndpoint(raw: string, policy: EndpointPolicy): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("BAD_REQUEST", "endpoint must be a URL");
  }
  if (url.username || url.password) throw new AppError("BAD_REQUEST", "endpoint must not carry credentials");
  if (isAllowListed(url, policy)) {
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new AppError("BAD_REQUEST", "endpoint must be an https URL");
    }
    return url;
  }
  if (url.protocol !== "https:") throw new AppError("BAD_REQUEST", "endpoint must be an https URL");
  try {
    await resolvePublic(url.hostname);
  } catch (error) {
    if (error instanceof UnsafeEndpointError) {
      throw new AppError("BAD_REQUEST", "endpoint must be on a public address");
    }
    throw new AppError("BAD_REQUEST", "endpoint's host could not be resolved");
  }
  return url;
}
