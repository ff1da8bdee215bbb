import ipaddr from "ipaddr.js";

/**
 * Whether the preview fetcher may connect to this address: public unicast
 * only. Loopback, private, link-local (cloud metadata at 169.254.169.254),
 * carrier-grade NAT, multicast, reserved and unspecified ranges are refused,
 * in IPv4 and IPv6, and IPv6 forms that carry an IPv4 address inside
 * (mapped, NAT64, 6to4, Teredo) are refused outright.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return isPublicAddress(v6.toIPv4Address().toString());
    // fd00:ec2::254 (AWS metadata over IPv6) is unique-local, refused below like the rest.
    return v6.range() === "unicast";
  }
  return parsed.range() === "unicast";
}
