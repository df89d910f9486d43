// Input that used to crash a handler (500) or be misreported: NUL and unpaired surrogates in stored
// text, absurdly nested JSON, huge echoes, a missing enum, an empty Content-Type.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer } from './support/harness.ts';

/** A raw request, so headers (an empty Content-Type) and bodies go out exactly as written. */
function raw(url: string, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method: 'POST', headers: { 'x-key': KEY_A, 'content-length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('hostile input', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let zip: string;
  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend({ steps: 2 }) });
    api = apiClient(server.url, KEY_A);
    zip = b64(await buildZip([{ name: 'a.png', data: await solidPng(32, 32, [10, 200, 30]) }]));
  });
  after(() => server.stop());

  it('NUL or an unpaired surrogate in stored text is a 422 naming the field (Postgres would refuse it: a 500)', async () => {
    const bad = ['nul\u0000here', 'lone \uD800 high', 'lone \uDC00 low'];
    for (const value of bad) {
      for (const [path, body, field] of [
        ['/v1/finetune', { file_data: zip, mode: 'product', finetune_comment: value }, 'finetune_comment'],
        ['/v1/finetune', { file_data: zip, mode: 'product', finetune_comment: 'c', trigger_word: value }, 'trigger_word'],
        ['/v1/finetune', { file_data: zip, mode: 'product', finetune_comment: 'c', webhook_secret: value }, 'webhook_secret'],
        ['/v1/flux-pro', { prompt: value }, 'prompt'],
        ['/v1/flux-pro-1.1-ultra', { prompt: 'x', webhook_url: 'http://example.com/', webhook_secret: value }, 'webhook_secret'],
      ] as const) {
        const r = await api.post(path, body);
        assert.equal(r.status, 422, `${path} ${field} ${JSON.stringify(value)}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(
          r.body.detail.map((d: any) => [d.type, d.loc.join('.')]),
          [['string_unicode', `body.${field}`]],
        );
      }
    }
    // Well-formed text is fine, astral characters included.
    assert.equal((await api.post('/v1/flux-pro', { prompt: 'a 😀 on the moon' })).status, 200);
  });

  it('a body nested 100k levels deep is a 422, not a stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const body of [deep, `{"prompt": ${deep}}`]) {
      const r = await api.post('/v1/flux-pro', body);
      assert.equal(r.status, 422);
      assert.equal(r.body.detail[0].type, 'json_invalid');
    }
    // Ordinary wrong types still answer as pydantic does, with a small echo.
    const r = await api.post('/v1/flux-pro', { prompt: [[[[[['x']]]]]] });
    assert.equal(r.status, 422);
    assert.equal(r.body.detail[0].type, 'string_type');
    assert.ok(JSON.stringify(r.body).length < 300);
  });

  it('the nesting limit is 32 levels, on the JSON routes and the upload route alike', async () => {
    // The body is level 0: prompt nested 31 deep is an ordinary wrong type, 32 deep is refused as JSON.
    const nested = (levels: number) => `${'['.repeat(levels)}"x"${']'.repeat(levels)}`;
    let r = await api.post('/v1/flux-pro', `{"prompt": ${nested(31)}}`);
    assert.equal(r.status, 422);
    assert.equal(r.body.detail[0].type, 'string_type');
    r = await api.post('/v1/flux-pro', `{"prompt": ${nested(32)}}`);
    assert.equal(r.status, 422);
    assert.deepEqual([r.body.detail[0].type, r.body.detail[0].ctx.error], ['json_invalid', 'nesting deeper than 32 levels']);
    for (const levels of [10_000, 31, 32]) {
      r = await api.post('/v1/finetune', `{"file_data": "${zip}", "mode": "product", "finetune_comment": ${nested(levels)}}`);
      assert.equal(r.status, 422, `${levels} levels`);
      assert.equal(r.body.detail[0].type, levels < 32 ? 'string_type' : 'json_invalid', `${levels} levels: ${JSON.stringify(r.body.detail[0])}`);
    }
  });

  it('the 422 echo of a missing field shows the body cut down, not a 10 MB file_data', async () => {
    const r = await api.post('/v1/finetune', { file_data: 'A'.repeat(10_000_000), mode: 'product' });
    assert.equal(r.status, 422);
    const missing = r.body.detail.find((d: any) => d.loc.join('.') === 'body.finetune_comment');
    assert.equal(missing.type, 'missing');
    assert.equal(missing.input.mode, 'product');
    assert.ok(missing.input.file_data.length <= 81);
    assert.ok(JSON.stringify(r.body).length < 1000);
  });

  it('a missing mode is "missing" (pydantic), a wrong one "enum"', async () => {
    let r = await api.post('/v1/finetune', { file_data: zip, finetune_comment: 'c' });
    assert.deepEqual(
      r.body.detail.map((d: any) => [d.type, d.loc.join('.')]),
      [['missing', 'body.mode']],
    );
    r = await api.post('/v1/finetune', { file_data: zip, finetune_comment: 'c', mode: 'cartoon' });
    assert.equal(r.body.detail[0].type, 'enum');
  });

  it('an empty Content-Type header is read as JSON, as FastAPI does', async () => {
    const r = await raw(server.url, '/v1/flux-pro', JSON.stringify({ prompt: 'x' }), { 'content-type': '' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.id);
  });
});
