import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * POSTs a body to url, connecting to the pre-resolved address (the SSRF guard's pin).
 * Redirects are NOT followed, on purpose: a 3xx is the answer (the delivery failed), so a receiver
 * cannot bounce the POST to an address the guard never saw (test/service/webhook-address-policy.test.ts).
 */
export function postJson(
  urlText: string,
  body: string,
  headers: Record<string, string>,
  pinned: { address: string; family: 4 | 6 },
  timeoutMs: number,
): Promise<{ status: number }> {
  const url = new URL(urlText);
  const lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
        lookup,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
