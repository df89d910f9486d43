import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { configFromEnv } from '../../src/service/config.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

// polling_url and the signed sample/preview URLs are built from FLUXTUNE_PUBLIC_URL, or else from the
// request. A request's Host (and, behind a trusted proxy, X-Forwarded-Proto/-Host) is used only when
// it makes an http(s) URL with a plain host and port; anything else falls back to the server's own
// listen address. A client can never choose the scheme or smuggle a path, user or fragment in.

/** node:http with a Host header of our choosing (fetch would not send most of these). */
function send(server: TestServer, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) {
  const { hostname, port } = new URL(server.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method,
        path,
        setHost: false,
        headers: { 'x-key': KEY_A, ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function pollingBase(server: TestServer, headers: Record<string, string>): Promise<string> {
  const r = await send(server, 'POST', '/v1/flux-pro', headers, { prompt: 'x', seed: 1 });
  assert.equal(r.status, 200, JSON.stringify({ headers, body: r.body }));
  const suffix = `/v1/get_result?id=${r.body.id}`;
  const url: string = r.body.polling_url;
  assert.ok(url.endsWith(suffix), url);
  return url.slice(0, -suffix.length);
}

async function sampleUrl(server: TestServer, id: string, headers: Record<string, string>): Promise<string> {
  const r = await send(server, 'GET', `/v1/get_result?id=${id}`, headers);
  assert.equal(r.status, 200, JSON.stringify({ headers, body: r.body }));
  assert.equal(r.body.status, 'Ready');
  return r.body.result.sample;
}

async function readyTask(server: TestServer): Promise<string> {
  const sub = await send(server, 'POST', '/v1/flux-pro', { host: 'api.example.com' }, { prompt: 'sample', seed: 2 });
  assert.equal(sub.status, 200);
  await waitUntil(async () => (await send(server, 'GET', `/v1/get_result?id=${sub.body.id}`, { host: 'api.example.com' })).body.status === 'Ready');
  return sub.body.id;
}

/** Host values that must never reach a URL we hand out. */
const HOSTILE_HOSTS = [
  'javascript:alert(1)',
  'evil.example/v1/get_result?id=',
  'evil.example/x',
  'evil example',
  'user@evil.example',
  'user:pw@evil.example',
  'evil.example:99999',
  'evil.example:0',
  'evil.example:abc',
  'evil.example:80:80',
  'evil.example#x',
  'evil.example?x=1',
  'evil.example\\x',
  '"evil.example"',
  '<script>alert(1)</script>',
  '[::1',
  '[not-an-ip]',
  '-evil.example',
  'evil..example',
  '.evil.example',
  'a'.repeat(64),
  '',
];

/** Forwarded schemes that must never be used, even behind a trusted proxy. */
const HOSTILE_PROTOS = ['javascript', 'javascript:', 'javascript://evil.example', 'ftp', 'file', 'data', 'https://evil.example', 'ht tp'];

describe('public URLs: FLUXTUNE_PUBLIC_URL and FLUXTUNE_TRUST_PROXY', () => {
  it('FLUXTUNE_PUBLIC_URL must be an absolute http(s) URL, else start-up fails naming it; when set it is used whatever the request says', async () => {
    for (const bad of [
      'javascript:alert(1)',
      'javascript://evil.example/',
      'ftp://files.example.com',
      'file:///etc/passwd',
      'example.com',
      '/fluxtune',
      'https://',
      'http://user:pw@example.com',
      'https://example.com/?x=1',
      'https://example.com/#top',
      'https://exa mple.com',
    ]) {
      assert.throws(() => configFromEnv({ FLUXTUNE_PUBLIC_URL: bad }), /FLUXTUNE_PUBLIC_URL must be an absolute http\(s\) URL/, bad);
    }
    assert.equal(configFromEnv({ FLUXTUNE_PUBLIC_URL: 'https://api.example.com/' }).publicUrl, 'https://api.example.com');
    assert.equal(configFromEnv({ FLUXTUNE_PUBLIC_URL: 'http://10.0.0.5:8787/fluxtune/' }).publicUrl, 'http://10.0.0.5:8787/fluxtune');
    assert.equal(configFromEnv({}).publicUrl, undefined);
    assert.equal(configFromEnv({}).trustProxy, false);
    assert.equal(configFromEnv({ FLUXTUNE_TRUST_PROXY: '1' }).trustProxy, true);
    assert.equal(configFromEnv({ FLUXTUNE_TRUST_PROXY: 'yes' }).trustProxy, false);

    const server = await startTestServer({ env: { FLUXTUNE_PUBLIC_URL: 'https://fluxtune.example.com/api/', FLUXTUNE_TRUST_PROXY: '1' } });
    try {
      const cases: Record<string, string>[] = [
        { host: 'evil.example' },
        { host: 'javascript:alert(1)' },
        { host: 'api.example.com', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example' },
      ];
      for (const headers of cases) assert.equal(await pollingBase(server, headers), 'https://fluxtune.example.com/api');
    } finally {
      await server.stop();
    }
  });
});

describe('public URLs from the request (no FLUXTUNE_PUBLIC_URL, proxy headers not trusted)', () => {
  let server: TestServer;
  let readyId: string;
  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend(), config: { maxActiveTasksPerKey: 1000 } });
    readyId = await readyTask(server);
  });
  after(() => server.stop());

  it('a hostile Host or X-Forwarded-* never shows up in polling_url or the sample URL', async () => {
    const leaks: string[] = [];
    const check = async (headers: Record<string, string>, expected: string) => {
      const base = await pollingBase(server, headers);
      if (base !== expected) leaks.push(`polling_url base ${JSON.stringify(base)} for ${JSON.stringify(headers)}`);
      const sample = await sampleUrl(server, readyId, headers);
      if (!sample.startsWith(`${expected}/v1/files/sample/${readyId}?`)) leaks.push(`sample ${JSON.stringify(sample)} for ${JSON.stringify(headers)}`);
    };
    for (const host of HOSTILE_HOSTS) await check({ host }, server.url);
    // Without FLUXTUNE_TRUST_PROXY the forwarded headers are ignored, hostile or not.
    for (const proto of [...HOSTILE_PROTOS, 'https']) await check({ host: 'api.example.com', 'x-forwarded-proto': proto }, 'http://api.example.com');
    await check({ host: 'api.example.com', 'x-forwarded-host': 'evil.example' }, 'http://api.example.com');
    await check({ host: 'evil.example/x', 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'evil.example' }, server.url);
    assert.deepEqual(leaks, []);
  });

  it('a plain Host is used as given: names, ports, IPv4 and IPv6 literals', async () => {
    assert.equal(await pollingBase(server, { host: 'api.example.com' }), 'http://api.example.com');
    assert.equal(await pollingBase(server, { host: 'API.Example.COM:8443' }), 'http://api.example.com:8443');
    assert.equal(await pollingBase(server, { host: 'fluxtune:8787' }), 'http://fluxtune:8787');
    assert.equal(await pollingBase(server, { host: '10.0.0.5:8787' }), 'http://10.0.0.5:8787');
    assert.equal(await pollingBase(server, { host: '[::1]:8787' }), 'http://[::1]:8787');
    assert.equal(await pollingBase(server, { host: 'api.example.com:80' }), 'http://api.example.com');
  });
});

describe('public URLs behind a trusted proxy (FLUXTUNE_TRUST_PROXY=1)', () => {
  let server: TestServer;
  let readyId: string;
  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend(), env: { FLUXTUNE_TRUST_PROXY: '1' }, config: { maxActiveTasksPerKey: 1000 } });
    readyId = await readyTask(server);
  });
  after(() => server.stop());

  it('a valid X-Forwarded-Proto (and X-Forwarded-Host) is used; anything else falls back to the listen address', async () => {
    assert.equal(await pollingBase(server, { host: 'api.example.com', 'x-forwarded-proto': 'https' }), 'https://api.example.com');
    assert.equal(await pollingBase(server, { host: 'api.example.com', 'x-forwarded-proto': 'HTTPS, http' }), 'https://api.example.com');
    assert.equal(await pollingBase(server, { host: 'api.example.com' }), 'http://api.example.com');
    assert.equal(
      await pollingBase(server, { host: '127.0.0.1:8787', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example.com:8443' }),
      'https://public.example.com:8443',
    );
    assert.equal(await pollingBase(server, { host: 'internal', 'x-forwarded-host': 'a.example.com, b.example.com' }), 'http://a.example.com');
    assert.ok(
      (await sampleUrl(server, readyId, { host: 'api.example.com', 'x-forwarded-proto': 'https' })).startsWith(`https://api.example.com/v1/files/sample/`),
    );

    const leaks: string[] = [];
    const check = async (headers: Record<string, string>) => {
      const base = await pollingBase(server, headers);
      if (base !== server.url) leaks.push(`polling_url base ${JSON.stringify(base)} for ${JSON.stringify(headers)}`);
      const sample = await sampleUrl(server, readyId, headers);
      if (!sample.startsWith(`${server.url}/v1/files/sample/`)) leaks.push(`sample ${JSON.stringify(sample)} for ${JSON.stringify(headers)}`);
    };
    for (const proto of HOSTILE_PROTOS) await check({ host: 'api.example.com', 'x-forwarded-proto': proto });
    for (const host of HOSTILE_HOSTS.filter((h) => h !== '')) await check({ host: 'api.example.com', 'x-forwarded-host': host });
    for (const host of HOSTILE_HOSTS) await check({ host, 'x-forwarded-proto': 'https' });
    assert.deepEqual(leaks, []);
  });
});
