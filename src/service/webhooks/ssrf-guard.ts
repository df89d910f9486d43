import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// Webhook URLs come from API users; without this guard the server would POST into its own
// network (metadata services, databases, admin panels) on their behalf.
//
// The one address policy for webhooks, used at submit (literal hosts, localhost names) and at
// delivery (every address the name resolves to, the first of which is then pinned for the connect):
//  - an IPv6 address that embeds an IPv4 address (IPv4-mapped, SIIT, IPv4-compatible, NAT64, 6to4,
//    Teredo) is judged by the IPv4 address it leads to;
//  - otherwise ipaddr.js names the address's range, and only 'unicast' (ordinary public addresses)
//    passes: loopback, private, uniqueLocal, linkLocal, carrierGradeNat, multicast, unspecified,
//    broadcast, reserved, benchmarking, documentation… and any range a later version adds are refused;
//  - IPv6 must also lie in 2000::/3, the only space IANA hands out as global unicast;
//  - cloud metadata addresses are named explicitly (they fall in refused ranges anyway).

const { IPv4, IPv6 } = ipaddr;
type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

/** The range names that are fine. Everything else ipaddr.js knows (or will know) is refused. */
const ALLOWED_RANGES: ReadonlySet<string> = new Set(['unicast']);

const METADATA_ADDRESSES: ReadonlySet<string> = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean…
  '169.254.169.253', // AWS DNS
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud
  'fd00:ec2:0:0:0:0:0:254', // AWS over IPv6 (toNormalizedString form)
  'fd00:ec2:0:0:0:0:0:253',
]);

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [IPv6, number];

function v4At(bytes: number[], ...at: number[]): IPv4 {
  return new IPv4(at.map((i) => bytes[i]!));
}

const allZero = (bytes: number[], from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);

/**
 * NAT64 (RFC 6052) addresses embed the IPv4 address at a position set by the prefix length. The
 * well-known 64:ff9b::/96 is always /96; inside the local-use 64:ff9b:1::/48 (RFC 8215) the operator
 * picks /48, /56, /64 or /96, so every layout the address is consistent with is a candidate
 * (bits 64–71 are zero and the suffix after the IPv4 address is zero in the shorter layouts).
 */
function nat64Candidates(b: number[]): IPv4[] {
  const out = [v4At(b, 12, 13, 14, 15)];
  const localUse = b[4] === 0 && b[5] === 1;
  if (!localUse || b[8] !== 0) return out;
  if (allZero(b, 13, 16)) out.push(v4At(b, 9, 10, 11, 12)); // /64
  if (allZero(b, 12, 16)) out.push(v4At(b, 7, 9, 10, 11)); // /56
  if (allZero(b, 11, 16)) out.push(v4At(b, 6, 7, 9, 10)); // /48
  return out;
}

/** The IPv4 addresses an IPv6 address leads to, or undefined when it embeds none. */
function embeddedIPv4(ip: IPv6): { form: string; ipv4: IPv4[] } | undefined {
  const b = ip.toByteArray();
  const range: string = ip.range();
  switch (range) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
      return { form: 'IPv4-mapped', ipv4: [v4At(b, 12, 13, 14, 15)] };
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return { form: 'SIIT', ipv4: [v4At(b, 12, 13, 14, 15)] };
    case 'rfc6052': // 64:ff9b::/96, 64:ff9b:1::/48
      return { form: 'NAT64', ipv4: nat64Candidates(b) };
    case '6to4': // 2002:AABB:CCDD::/48 (bits 16–48)
      return { form: '6to4', ipv4: [v4At(b, 2, 3, 4, 5)] };
    case 'teredo': {
      // 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC, the client address inverted.
      const client = new IPv4(b.slice(12, 16).map((x) => x ^ 0xff));
      return { form: 'Teredo', ipv4: [v4At(b, 4, 5, 6, 7), client] };
    }
    default:
      // IPv4-compatible ::a.b.c.d (deprecated). :: and ::1 have their own range names.
      if (ALLOWED_RANGES.has(range) && allZero(b, 0, 12)) return { form: 'IPv4-compatible', ipv4: [v4At(b, 12, 13, 14, 15)] };
      return undefined;
  }
}

function problemWithIPv4(ip: IPv4): string | undefined {
  if (METADATA_ADDRESSES.has(ip.toString())) return 'cloud metadata';
  const range: string = ip.range();
  return ALLOWED_RANGES.has(range) ? undefined : range;
}

function problemWithIPv6(ip: IPv6): string | undefined {
  if (METADATA_ADDRESSES.has(ip.toNormalizedString())) return 'cloud metadata';
  const embedded = embeddedIPv4(ip);
  if (embedded) {
    for (const v4 of embedded.ipv4) {
      const p = problemWithIPv4(v4);
      if (p) return `${embedded.form} ${v4.toString()}, ${p}`;
    }
    return undefined;
  }
  const range: string = ip.range();
  if (!ALLOWED_RANGES.has(range)) return range;
  if (!ip.match(GLOBAL_UNICAST_V6)) return 'not global unicast';
  return undefined;
}

/** Why a webhook may not be sent to this IP address (a range name), or undefined when it is public. */
export function addressProblem(address: string): string | undefined {
  const family = isIP(address);
  try {
    if (family === 4) return problemWithIPv4(IPv4.parse(address));
    if (family === 6) return problemWithIPv6(IPv6.parse(address));
  } catch {}
  return 'not an IP address';
}

export function isPrivateAddress(address: string): boolean {
  return addressProblem(address) !== undefined;
}

export class BlockedDestination extends Error {}

/** The URL's host without IPv6 brackets or a trailing root dot, lower-cased. */
function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
}

const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/**
 * Check at submit time, without DNS: literal IPs in any spelling (the URL parser has already turned
 * 127.1, 0x7f000001 and [::127.0.0.1] into canonical form) and localhost names are refused up front.
 */
export function obviouslyPrivate(urlText: string): boolean {
  const host = hostOf(new URL(urlText));
  if (isLocalhostName(host)) return true;
  return isIP(host) !== 0 && isPrivateAddress(host);
}

export type ResolvedAddress = { address: string; family: 4 | 6 };
export type LookupAll = (host: string) => Promise<ResolvedAddress[]>;

const lookupAll: LookupAll = async (host) => (await lookup(host, { all: true })) as ResolvedAddress[];

/**
 * Resolves the host once and returns the address to connect to, so DNS cannot change between check
 * and connect. Every address the name resolves to must pass, not only the one used.
 */
export async function resolvePublicAddress(urlText: string, allowPrivate: boolean, resolve: LookupAll = lookupAll): Promise<ResolvedAddress> {
  const url = new URL(urlText);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BlockedDestination(`scheme ${url.protocol} is not allowed`);
  const host = hostOf(url);
  if (!allowPrivate && isLocalhostName(host)) throw new BlockedDestination(`${host} names a private address (loopback)`);
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal as 4 | 6 }] : await resolve(host);
  if (addresses.length === 0) throw new BlockedDestination(`${host} does not resolve`);
  if (!allowPrivate) {
    for (const a of addresses) {
      const problem = addressProblem(a.address);
      if (problem) throw new BlockedDestination(`${host} resolves to a private address (${a.address}: ${problem})`);
    }
  }
  return addresses[0]!;
}
