import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { DatasetLimits } from '../../dataset/limits.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { ServiceConfig } from '../config.ts';
import type { UrlSigner } from '../signed-urls.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Db } from '../storage/db.ts';
import type { TaskCache } from '../tasks/task-cache.ts';

/** What route handlers share. `jobs`/`webhooks` are absent when this process runs no worker/dispatcher. */
export interface ServiceContext {
  db: Db;
  blobs: BlobStore;
  config: ServiceConfig;
  keys: KeyVerifier;
  signer: UrlSigner;
  taskCache: TaskCache;
  datasetLimits: DatasetLimits;
  jobs?: { notify(): void; cancel(id: string): void };
  webhooks?: { notify(): void };
}

declare module 'fastify' {
  interface FastifyRequest {
    keyId: string;
  }
}

/**
 * Base for polling and sample URLs: FLUXTUNE_PUBLIC_URL (validated at start-up); else the origin the
 * client used to reach us, taken from Host (X-Forwarded-Proto / X-Forwarded-Host only with
 * FLUXTUNE_TRUST_PROXY=1) when that makes a plain http(s) origin; else this server's own address.
 * Clients echo these URLs into browsers and tools, so a request can never pick the scheme or slip
 * a path, user, query or fragment into them.
 */
export function baseUrlOf(ctx: ServiceContext, request: FastifyRequest): string {
  if (ctx.config.publicUrl) return ctx.config.publicUrl;
  return requestOrigin(request, ctx.config.trustProxy) ?? ownOrigin(request, ctx.config.port);
}

/** The first value of a header that proxies may send as a comma-separated list (or repeat). */
function firstValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.split(',')[0]?.trim() || undefined;
}

function requestOrigin(request: FastifyRequest, trustProxy: boolean): string | undefined {
  const headers = request.headers;
  // From the socket, not request.protocol: that one reads X-Forwarded-Proto if Fastify's trustProxy is ever turned on.
  let proto = 'encrypted' in request.raw.socket && request.raw.socket.encrypted ? 'https' : 'http';
  let host = headers.host;
  if (trustProxy) {
    const forwardedProto = firstValue(headers['x-forwarded-proto']);
    if (forwardedProto !== undefined) proto = forwardedProto.toLowerCase();
    host = firstValue(headers['x-forwarded-host']) ?? host;
  }
  if (proto !== 'http' && proto !== 'https') return undefined;
  if (host === undefined || !isHostAndPort(host)) return undefined;
  try {
    const url = new URL(`${proto}://${host}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** `name[:port]`, `a.b.c.d[:port]` or `[ipv6][:port]`: nothing else may come from a Host header. */
function isHostAndPort(value: string): boolean {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(value);
  if (!m) return false;
  const [, hostname = '', port] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  if (hostname.startsWith('[')) {
    const inner = hostname.slice(1, -1);
    return !inner.includes('%') && isIP(inner) === 6;
  }
  if (isIP(hostname) === 4) return true;
  if (hostname.length > 253) return false;
  const labels = hostname.split('.');
  // A name whose last label is a number would be read as an IPv4 address by the URL parser.
  if (/^(?:\d+|0x[0-9a-f]*)$/i.test(labels.at(-1) ?? '')) return false;
  return labels.every((l) => DNS_LABEL.test(l));
}

/** The address this request reached us on: always ours, whatever the client sent. */
function ownOrigin(request: FastifyRequest, configuredPort: number): string {
  const socket = request.raw.socket;
  const address = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').replace(/%.*$/, '');
  const port = socket.localPort ?? configuredPort;
  return `http${'encrypted' in socket && socket.encrypted ? 's' : ''}://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}
