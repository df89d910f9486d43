import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postJson } from '../../src/service/webhooks/post-json.ts';
import { isPrivateAddress, obviouslyPrivate, resolvePublicAddress } from '../../src/service/webhooks/ssrf-guard.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

// One address policy for webhooks, at submit and at delivery. Every IPv6 form that embeds an IPv4
// address is judged by that IPv4 address; only ordinary public unicast passes.

/** Addresses that reach loopback, private networks, link-local, metadata services or nothing at all. */
const HOSTILE_ADDRESSES = [
  // IPv4
  '127.0.0.1',
  '127.8.9.10',
  '10.0.0.1',
  '172.16.0.1',
  '172.31.255.254',
  '192.168.1.1',
  '169.254.169.254', // cloud metadata (AWS, GCP, Azure…)
  '169.254.170.2', // ECS task metadata
  '100.64.0.1', // CGNAT
  '100.100.100.200', // Alibaba metadata (CGNAT range)
  '0.0.0.0',
  '0.1.2.3',
  '255.255.255.255',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '192.0.0.192', // Oracle metadata (IETF protocol assignments)
  '192.0.2.1', // documentation
  '198.51.100.7',
  '203.0.113.9',
  '198.18.0.1', // benchmarking
  '198.19.255.255',
  // IPv6
  '::',
  '::1',
  'fc00::1',
  'fd00::1',
  'fd00:ec2::254', // AWS metadata over IPv6
  'fe80::1',
  'fec0::1', // deprecated site-local
  'ff02::1',
  '2001:db8::1', // documentation
  '2001:2::1', // benchmarking
  '100::1', // discard
  // IPv4-mapped (::ffff:0:0/96), dotted and hex
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:10.0.0.1',
  '::ffff:169.254.169.254',
  // SIIT / IPv4-translated (::ffff:0:0:0/96)
  '::ffff:0:127.0.0.1',
  '::ffff:0:7f00:1',
  '::ffff:0:a9fe:a9fe',
  // IPv4-compatible (::/96, deprecated)
  '::127.0.0.1',
  '::7f00:1',
  '::10.0.0.1',
  '::169.254.169.254',
  // NAT64 well-known prefix 64:ff9b::/96
  '64:ff9b::127.0.0.1',
  '64:ff9b::7f00:1',
  '64:ff9b::169.254.169.254',
  '64:ff9b::10.1.2.3',
  // NAT64 local-use 64:ff9b:1::/48 (RFC 8215): /96 and the shorter RFC 6052 layouts
  '64:ff9b:1::127.0.0.1',
  '64:ff9b:1::a9fe:a9fe',
  '64:ff9b:1:7f00:0:100::', // 127.0.0.1 under a /48 prefix
  '64:ff9b:1:0:7f:0:100:0', // 127.0.0.1 under a /64 prefix (bits 72–103; read as /96 it would be 1.0.0.0)
  // 6to4 2002::/16: the IPv4 address is bits 16–48
  '2002:a9fe:a9fe::',
  '2002:7f00:1::1',
  '2002:c0a8:101:1::1',
  '2002:a00:1::',
  // Teredo 2001::/32: server IPv4 in bits 32–63, client IPv4 (inverted) in bits 96–127
  '2001:0:808:808:0:0:80ff:fffe', // server 8.8.8.8, client 127.0.0.1
  '2001:0:a00:1::f7f7:f7f7', // server 10.0.0.1, client 8.8.8.8
  '2001:0:808:808::5601:5601', // client 169.254.169.254
];

const PUBLIC_ADDRESSES = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '2606:4700::1111',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82a::200e',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::8.8.8.8',
  '64:ff9b:1::808:808',
  '2002:808:808::1',
  '2001:0:808:808::f7f7:f7f7', // Teredo, server and client 8.8.8.8
];

const bracket = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/** URLs refused at submit without any DNS: IP literals in every spelling, and localhost names. */
const HOSTILE_URLS = [
  ...HOSTILE_ADDRESSES.map((ip) => `http://${bracket(ip)}/hook`),
  'http://[::127.0.0.1]/hook',
  'http://[::ffff:0:127.0.0.1]/hook',
  'http://[64:ff9b::127.0.0.1]/hook',
  'http://[64:ff9b::169.254.169.254]/latest/meta-data/',
  'http://[2002:a9fe:a9fe::]/latest/meta-data/',
  'https://[fd00:ec2::254]/latest/meta-data/',
  'http://127.1/hook', // WHATWG URL reads these as 127.0.0.1
  'http://0x7f000001/hook',
  'http://2130706433/hook',
  'http://0177.0.0.1/hook',
  'http://localhost/hook',
  'http://LOCALHOST:8080/hook',
  'http://localhost./hook',
  'http://api.localhost/hook',
  'http://a.b.localhost./hook',
];

const PUBLIC_URLS = [
  'https://example.com/hook',
  'http://8.8.8.8/hook',
  'https://[2606:4700::1111]/hook',
  'http://[::ffff:8.8.8.8]:8080/hook',
  'https://localhost.example.com/hook',
];

describe('webhook address policy', () => {
  it('refuses every non-public address, judging IPv4-embedding IPv6 forms by their IPv4 address; allows public unicast', () => {
    assert.deepEqual(
      HOSTILE_ADDRESSES.filter((ip) => !isPrivateAddress(ip)),
      [],
      'these must be refused',
    );
    assert.deepEqual(
      PUBLIC_ADDRESSES.filter((ip) => isPrivateAddress(ip)),
      [],
      'these must be allowed',
    );
  });

  it('judges URLs at submit the same way (literal hosts normalised by the URL parser, localhost names)', () => {
    assert.deepEqual(
      HOSTILE_URLS.filter((u) => !obviouslyPrivate(u)),
      [],
      'these must be refused at submit',
    );
    assert.deepEqual(
      PUBLIC_URLS.filter((u) => obviouslyPrivate(u)),
      [],
      'these must be allowed at submit',
    );
  });

  it('refuses the same addresses at delivery, after resolution; FLUXTUNE_WEBHOOK_ALLOW_PRIVATE lets them through', async () => {
    for (const ip of HOSTILE_ADDRESSES) {
      const url = `http://${bracket(ip)}:8080/hook`;
      await assert.rejects(resolvePublicAddress(url, false), /private address/, url);
      const allowed = await resolvePublicAddress(url, true);
      assert.equal(typeof allowed.address, 'string', url);
    }
    for (const ip of PUBLIC_ADDRESSES) {
      const url = `http://${bracket(ip)}/hook`;
      assert.ok(await resolvePublicAddress(url, false), url);
    }
    // A name is judged by everything it resolves to: one bad address among good ones is enough to refuse.
    const resolvesTo =
      (...addresses: string[]) =>
      async () =>
        addresses.map((address) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }));
    for (const bad of ['::ffff:0:7f00:1', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::', '::7f00:1', '10.0.0.1']) {
      await assert.rejects(resolvePublicAddress('https://hooks.example.test/x', false, resolvesTo('8.8.8.8', bad)), /private address/, bad);
    }
    assert.deepEqual(await resolvePublicAddress('https://hooks.example.test/x', false, resolvesTo('2606:4700::1111', '8.8.8.8')), {
      address: '2606:4700::1111',
      family: 6,
    });
  });
});

describe('webhook address policy over HTTP (FLUXTUNE_WEBHOOK_ALLOW_PRIVATE=0)', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  const hits: string[] = [];
  const receiver = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.statusCode = 204;
    res.end();
  });
  let port: number;

  before(async () => {
    // Dual-stack, so IPv4-mapped destinations would reach it if the guard let them through.
    await new Promise<void>((r) => receiver.listen(0, '::', r));
    port = (receiver.address() as AddressInfo).port;
    // No backend: tasks stay Pending, so nothing is ever sent to the public URLs submitted below.
    server = await startTestServer({
      env: { FLUXTUNE_WEBHOOK_ALLOW_PRIVATE: '0' },
      config: { webhookPollMs: 20, webhookMaxAttempts: 1, maxActiveTasksPerKey: 1000 },
    });
    api = apiClient(server.url, KEY_A);
  });
  after(async () => {
    await server.stop();
    receiver.close();
  });

  it('POST /v1/flux-pro with a hostile webhook_url is a 422 naming webhook_url', async () => {
    const wrong: string[] = [];
    for (const url of HOSTILE_URLS) {
      const r = await api.post('/v1/flux-pro', { prompt: 'x', webhook_url: url });
      if (r.status !== 422 || JSON.stringify(r.body.detail?.[0]?.loc) !== JSON.stringify(['body', 'webhook_url'])) {
        wrong.push(`${url} -> ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    assert.deepEqual(wrong, []);
    for (const url of PUBLIC_URLS) {
      const r = await api.post('/v1/flux-pro', { prompt: 'x', webhook_url: url });
      assert.equal(r.status, 200, url);
      assert.equal(r.body.webhook_url, url);
    }
    // FLUXTUNE_WEBHOOK_ALLOW_PRIVATE=1 still accepts every address.
    const open = await startTestServer({ env: { FLUXTUNE_WEBHOOK_ALLOW_PRIVATE: '1' }, config: { maxActiveTasksPerKey: 1000 } });
    try {
      const openApi = apiClient(open.url, KEY_A);
      for (const url of ['http://[::127.0.0.1]/x', 'http://[64:ff9b::169.254.169.254]/x', 'http://localhost./x', 'http://10.0.0.1/x']) {
        assert.equal((await openApi.post('/v1/flux-pro', { prompt: 'x', webhook_url: url })).status, 200, url);
      }
    } finally {
      await open.stop();
    }
  });

  it('delivery refuses a hostile address that is already in the outbox, and sends nothing', async () => {
    const sub = await api.post('/v1/flux-pro', { prompt: 'x', webhook_url: 'https://example.com/hook' });
    assert.equal(sub.status, 200);
    const urls = [
      `http://[::ffff:127.0.0.1]:${port}/mapped`,
      `http://[::ffff:0:127.0.0.1]:${port}/siit`,
      `http://[::127.0.0.1]:${port}/compat`,
      `http://[64:ff9b::127.0.0.1]:${port}/nat64`,
      `http://[2002:7f00:1::]:${port}/6to4`,
      `http://[2001:0:808:808:0:0:80ff:fffe]:${port}/teredo`,
      `http://127.0.0.1:${port}/plain`,
    ];
    for (const url of urls) {
      await server.db.query(`insert into webhook_deliveries (id, task_id, url, secret, state) values (gen_random_uuid(), $1, $2, null, 'pending')`, [
        sub.body.id,
        url,
      ]);
    }
    const rows = await waitUntil(async () => {
      const r = await server.db.query<{ url: string; state: string; last_error: string | null }>(
        `select url, state, last_error from webhook_deliveries where task_id = $1`,
        [sub.body.id],
      );
      return r.rows.length === urls.length && r.rows.every((row) => row.state === 'failed') && r.rows;
    }, 10_000);
    for (const row of rows) assert.match(row.last_error ?? '', /private address/, row.url);
    assert.deepEqual(hits, []);
  });
});

// Not a new guard: postJson never followed redirects. This keeps it so (a 3xx to a private host would
// otherwise bypass the address check made before the first request).
describe('webhook POSTs do not follow redirects', () => {
  it('a 3xx is the answer (a failed delivery), the Location is never requested', async () => {
    const second: string[] = [];
    const target = createServer((req, res) => {
      second.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as AddressInfo).port;
    const first = createServer((_req, res) => {
      res.statusCode = 307;
      res.setHeader('location', `http://127.0.0.1:${targetPort}/latest/meta-data/`);
      res.end();
    });
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    try {
      const port = (first.address() as AddressInfo).port;
      const res = await postJson(`http://127.0.0.1:${port}/hook`, '{}', {}, { address: '127.0.0.1', family: 4 }, 2_000);
      assert.equal(res.status, 307);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(second, []);
    } finally {
      first.close();
      target.close();
    }
  });
});
