import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

// Webhook URLs come from API users; without this guard the server would POST into its own
// network (metadata services, databases, admin panels) on their behalf.

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const lower = address.toLowerCase();
    // IPv4-mapped and NAT64 forms reach IPv4 hosts: judge the embedded IPv4 address.
    const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (embedded) return blocked.check(embedded[1]!, 'ipv4');
    return blocked.check(lower, 'ipv6');
  }
  return true;
}

export class BlockedDestination extends Error {}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Cheap check at submit time: literal private IPs and localhost names are refused up front. */
export function obviouslyPrivate(urlText: string): boolean {
  const host = hostOf(new URL(urlText)).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && isPrivateAddress(host);
}

/** Resolves the host once and returns the address to connect to, so DNS cannot change between check and connect. */
export async function resolvePublicAddress(urlText: string, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const url = new URL(urlText);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BlockedDestination(`scheme ${url.protocol} is not allowed`);
  const host = hostOf(url);
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal as 4 | 6 }] : ((await lookup(host, { all: true })) as { address: string; family: 4 | 6 }[]);
  if (addresses.length === 0) throw new BlockedDestination(`${host} does not resolve`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) throw new BlockedDestination(`${host} resolves to a private address (${bad.address})`);
  }
  return addresses[0]!;
}
