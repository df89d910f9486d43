import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isPrivateAddress, obviouslyPrivate, resolvePublicAddress } from '../../src/service/webhooks/ssrf-guard.ts';
import { retryDelayMs } from '../../src/service/webhooks/webhook-dispatcher.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

describe('webhooks: signed, retried with back-off', () => {
  let server: TestServer;
  const received: { headers: IncomingHttpHeaders; body: string; at: number }[] = [];
  let failuresLeft = 2;
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() });
      res.statusCode = failuresLeft-- > 0 ? 500 : 204;
      res.end();
    });
  });
  let hookUrl: string;

  before(async () => {
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    // The harness sets FLUXTUNE_WEBHOOK_ALLOW_PRIVATE=1 so the local receiver is reachable.
    server = await startTestServer({ backend: new DeterministicTestBackend(), config: { webhookBackoffMs: 150, webhookPollMs: 20 } });
  });
  after(async () => {
    await server.stop();
    hook.close();
  });

  it('delivers {id, task_id, status, result, details} with X-Webhook-Secret and a sha256 HMAC signature, after retries', async () => {
    const api = apiClient(server.url, KEY_A);
    const sub = await api.post('/v1/flux-pro', { prompt: 'hooked', seed: 1, webhook_url: hookUrl, webhook_secret: 's3cret' });
    assert.equal(sub.status, 200);
    assert.deepEqual(sub.body, { id: sub.body.id, status: 'Pending', webhook_url: hookUrl });
    await waitUntil(async () => received.length >= 3, 10_000);
    const last = received.at(-1)!;
    const payload = JSON.parse(last.body);
    assert.equal(payload.id, sub.body.id);
    assert.equal(payload.task_id, sub.body.id);
    assert.equal(payload.status, 'Ready');
    assert.match(payload.result.sample, /\/v1\/files\/sample\//);
    assert.equal(last.headers['x-webhook-secret'], 's3cret');
    assert.equal(last.headers['x-webhook-signature'], `sha256=${createHmac('sha256', 's3cret').update(last.body).digest('hex')}`);
    // Exponential back-off: each retry waits at least its delay after the failure before it (150 ms, then
    // 300 ms). Lower bounds only, which a busy machine cannot break (it makes the gaps longer, never
    // shorter); 10 ms of slack for the database's clock against this one's.
    const [a, b, c] = received.map((r) => r.at);
    assert.ok(b! - a! >= 150 - 10, `first retry ${b! - a!} ms after the first failure`);
    assert.ok(c! - b! >= 300 - 10, `second retry ${c! - b!} ms after the second failure`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(received.length, 3, 'no more deliveries after a 2xx');
    const row = (await server.db.query<{ state: string; attempts: number }>('select state, attempts from webhook_deliveries')).rows[0]!;
    assert.deepEqual(row, { state: 'delivered', attempts: 3 });
  });
});

describe('webhook retry delays', () => {
  it('double from the configured back-off after each failure, capped at an hour', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelayMs(150, n)),
      [150, 300, 600, 1200],
    );
    assert.equal(retryDelayMs(60_000, 8), 3_600_000);
    assert.equal(retryDelayMs(60_000, 50), 3_600_000);
  });
});

describe('SSRF guard', () => {
  it('classifies private, loopback, link-local, CGNAT and mapped addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.0.0.5',
      '172.20.1.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      assert.equal(isPrivateAddress(ip), true, ip);
    }
    for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(ip), false, ip);
    assert.equal(obviouslyPrivate('http://localhost:8080/x'), true);
    assert.equal(obviouslyPrivate('https://example.com/x'), false);
  });

  it('refuses to resolve a private destination unless allowed', async () => {
    await assert.rejects(resolvePublicAddress('http://127.0.0.1:1/x', false), /private address/);
    await assert.rejects(resolvePublicAddress('http://localhost:1/x', false), /private address/);
    assert.equal((await resolvePublicAddress('http://127.0.0.1:1/x', true)).address, '127.0.0.1');
    await assert.rejects(resolvePublicAddress('file:///etc/passwd', true), /scheme/);
  });
});
