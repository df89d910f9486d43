import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { b64, buildZip, solidJpeg, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function datasetZip(): Promise<string> {
  return b64(
    await buildZip([
      { name: 'cat/01.png', data: await solidPng(64, 48, [200, 30, 30]) },
      { name: 'cat/01.txt', data: 'TOK sitting on a red rug' },
      { name: 'cat/02.jpg', data: await solidJpeg(40, 40) },
    ]),
  );
}

describe('API contract over HTTP (with a test-double backend)', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let finetuneId: string;
  const backend = new DeterministicTestBackend({ steps: 6, checkpointEvery: 2 });

  before(async () => {
    server = await startTestServer({ backend });
    api = apiClient(server.url, KEY_A);
  });
  after(() => server.stop());

  it('403 on every /v1 route without or with a wrong x-key', async () => {
    for (const key of [undefined, 'wrong']) {
      const anon = apiClient(server.url, key);
      const calls = [
        anon.post('/v1/finetune', {}),
        anon.get('/v1/get_result?id=x'),
        anon.get('/v1/my_finetunes'),
        anon.get('/v1/finetune_details?finetune_id=x'),
        anon.post('/v1/delete_finetune', { finetune_id: 'x' }),
        anon.post('/v1/flux-pro', {}),
        anon.post('/v1/flux-pro-finetuned', {}),
        anon.post('/v1/flux-pro-1.1-ultra', {}),
        anon.post('/v1/flux-pro-1.1-ultra-finetuned', {}),
      ];
      for (const r of await Promise.all(calls)) {
        assert.equal(r.status, 403);
        assert.deepEqual(r.body, { detail: 'Not authenticated - Invalid Authentication' });
      }
    }
  });

  it('x-key is case-insensitive', async () => {
    const r = await fetch(`${server.url}/v1/my_finetunes`, { headers: { 'X-Key': KEY_A } });
    assert.equal(r.status, 200);
  });

  it('422 in pydantic shape: missing, range, enum, multiple_of, type, bad JSON', async () => {
    let r = await api.post('/v1/finetune', { iterations: 50, mode: 'cartoon', lora_rank: 8, learning_rate: 1, captioning: 'yes', unknown_field: 1 });
    assert.equal(r.status, 422);
    const byField = Object.fromEntries(r.body.detail.map((d: any) => [d.loc.join('.'), d]));
    assert.equal(byField['body.file_data'].type, 'missing');
    assert.equal(byField['body.file_data'].msg, 'Field required');
    assert.equal(byField['body.finetune_comment'].type, 'missing');
    assert.equal(byField['body.mode'].type, 'enum');
    assert.equal(byField['body.mode'].input, 'cartoon');
    assert.equal(byField['body.iterations'].type, 'greater_than_equal');
    assert.equal(byField['body.iterations'].msg, 'Input should be greater than or equal to 100');
    assert.equal(byField['body.learning_rate'].type, 'less_than_equal');
    assert.equal(byField['body.lora_rank'].type, 'enum');
    assert.equal(byField['body.captioning'].type, 'bool_type');
    assert.ok(!('body.unknown_field' in byField), 'unknown fields are ignored');

    r = await api.post('/v1/flux-pro', { width: 1000, steps: 2.5, guidance: 9 });
    assert.equal(r.status, 422);
    const types = Object.fromEntries(r.body.detail.map((d: any) => [d.loc.join('.'), d.type]));
    assert.deepEqual(types, { 'body.width': 'multiple_of', 'body.steps': 'int_from_float', 'body.guidance': 'less_than_equal' });

    r = await api.post('/v1/flux-pro-1.1-ultra', { aspect_ratio: '4:1' });
    assert.equal(r.status, 422);
    assert.equal(r.body.detail[0].type, 'value_error');
    assert.deepEqual(r.body.detail[0].loc, ['body', 'aspect_ratio']);

    r = await api.post('/v1/flux-pro', '{not json');
    assert.equal(r.status, 422);
    assert.equal(r.body.detail[0].type, 'json_invalid');

    r = await api.get('/v1/get_result');
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.detail[0].loc, ['query', 'id']);
    assert.equal(r.body.detail[0].type, 'missing');

    r = await api.post('/v1/flux-pro', { webhook_url: 'not a url' });
    assert.equal(r.status, 422);
    assert.equal(r.body.detail[0].type, 'url_parsing');
  });

  it('POST /v1/finetune → id + polling_url; the finetune trains to Ready with progress and preview', async () => {
    const r = await api.post('/v1/finetune', { file_data: await datasetZip(), finetune_comment: 'cat', mode: 'character', finetune_type: 'lora' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    finetuneId = r.body.finetune_id;
    assert.match(finetuneId, UUID);
    assert.equal(r.body.polling_url, `${server.url}/v1/get_result?id=${finetuneId}`);

    const seen = new Set<number>();
    const ready = await waitUntil(async () => {
      const s = await api.get(`/v1/get_result?id=${finetuneId}`);
      assert.equal(s.status, 200);
      assert.ok(['Pending', 'Ready'].includes(s.body.status), JSON.stringify(s.body));
      if (typeof s.body.progress === 'number') seen.add(s.body.progress);
      return s.body.status === 'Ready' && s.body;
    });
    assert.deepEqual(ready.result, { finetune_id: finetuneId });
    assert.equal(ready.progress, 1);
    assert.ok([...seen].every((p) => p >= 0 && p <= 1));
    assert.match(ready.preview, /\/v1\/files\/preview\//);
    const preview = await fetch(ready.preview);
    assert.equal(preview.status, 200);
    assert.equal(preview.headers.get('content-type'), 'image/png');
  });

  it('finetune_details shows parameters, defaults and the captions used', async () => {
    const r = await api.get(`/v1/finetune_details?finetune_id=${finetuneId}`);
    assert.equal(r.status, 200);
    const d = r.body.finetune_details;
    assert.equal(d.finetune_comment, 'cat');
    assert.equal(d.trigger_word, 'TOK');
    assert.equal(d.mode, 'character');
    assert.equal(d.finetune_type, 'lora');
    assert.equal(d.learning_rate, 1e-4);
    assert.equal(d.iterations, 300);
    assert.equal(d.lora_rank, 32);
    assert.equal(d.priority, 'quality');
    assert.equal(d.captioning, true);
    assert.equal(d.status, 'Ready');
    assert.equal(d.image_count, 2);
    assert.equal(d.region, 'us1');
    assert.ok(!Number.isNaN(Date.parse(d.timestamp)));
    assert.deepEqual(d.captions, [
      { file: 'cat/01.png', caption: 'TOK sitting on a red rug', source: 'user', confidence: null },
      { file: 'cat/02.jpg', caption: 'TOK test picture 40 by 40', source: 'auto', confidence: 0.9 },
    ]);
    assert.deepEqual(backend.log.trains.at(-1)!.captions, ['TOK sitting on a red rug', 'TOK test picture 40 by 40']);
  });

  it("my_finetunes lists the caller's finetunes", async () => {
    const r = await api.get('/v1/my_finetunes');
    assert.deepEqual(r.body, { finetunes: [finetuneId] });
  });

  it('finetuned inference: sample of the requested size, signed URL, pixels change with finetune_strength', async () => {
    async function generate(strength: number, format: 'png' | 'jpeg' = 'png') {
      const sub = await api.post('/v1/flux-pro-finetuned', {
        finetune_id: finetuneId,
        finetune_strength: strength,
        prompt: 'a photo of TOK',
        seed: 7,
        width: 320,
        height: 256,
        output_format: format,
      });
      assert.equal(sub.status, 200, JSON.stringify(sub.body));
      assert.match(sub.body.id, UUID);
      assert.equal(sub.body.polling_url, `${server.url}/v1/get_result?id=${sub.body.id}`);
      const done = await waitUntil(async () => {
        const s = await api.get(`/v1/get_result?id=${sub.body.id}`);
        return s.body.status === 'Ready' && s.body;
      });
      assert.equal(done.result.prompt, 'a photo of TOK');
      assert.equal(done.result.seed, 7);
      for (const k of ['start_time', 'end_time', 'duration']) assert.equal(typeof done.result[k], 'number');
      const img = await fetch(done.result.sample);
      assert.equal(img.status, 200);
      const bytes = Buffer.from(await img.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], [format, 320, 256]);
      return { bytes, url: done.result.sample as string };
    }
    const zero = await generate(0);
    const one = await generate(1);
    const two = await generate(2);
    assert.notDeepEqual(zero.bytes, one.bytes);
    assert.notDeepEqual(one.bytes, two.bytes);
    const lastGenerate = backend.log.generates.at(-1)!;
    assert.equal(lastGenerate.lora?.strength, 2);
    await generate(1, 'jpeg');

    // Tampered or expired signatures are refused.
    const u = new URL(one.url);
    const tampered = `${u.origin}${u.pathname}?exp=${u.searchParams.get('exp')}&sig=AAAA${u.searchParams.get('sig')!.slice(4)}`;
    assert.equal((await fetch(tampered)).status, 403);
    const expired = `${u.origin}${u.pathname}?exp=1000&sig=${u.searchParams.get('sig')}`;
    assert.equal((await fetch(expired)).status, 403);
  });

  it('ultra routes: default 16:9 size, finetune_strength default 1.2; plain routes need no finetune', async () => {
    const sub = await api.post('/v1/flux-pro-1.1-ultra-finetuned', { finetune_id: finetuneId, prompt: 'TOK on the moon', raw: true });
    assert.equal(sub.status, 200);
    const done = await waitUntil(async () => (await api.get(`/v1/get_result?id=${sub.body.id}`)).body.status === 'Ready');
    assert.ok(done);
    const req = backend.log.generates.at(-1)!;
    assert.equal(req.lora?.strength, 1.2);
    assert.ok(Math.abs(req.width / req.height - 16 / 9) < 0.05, `${req.width}x${req.height}`);

    const plain = await api.post('/v1/flux-pro-1.1-ultra', { prompt: 'a lighthouse', aspect_ratio: '9:21', seed: 3 });
    assert.equal(plain.status, 200);
    const pro = await api.post('/v1/flux-pro', { prompt: 'a lighthouse' });
    assert.equal(pro.status, 200);
    for (const id of [plain.body.id, pro.body.id]) {
      const r = await waitUntil(async () => {
        const s = await api.get(`/v1/get_result?id=${id}`);
        return s.body.status === 'Ready' && s.body;
      });
      assert.equal(typeof r.result.seed, 'number');
    }
    assert.equal(backend.log.generates.at(-1)!.lora, undefined);
  });

  it('404s: unknown task, unknown finetune on details/delete/inference', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    let r = await api.get(`/v1/get_result?id=${unknown}`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { id: unknown, status: 'Task not found' });
    r = await api.get('/v1/get_result?id=not-a-uuid');
    assert.equal(r.status, 404);
    r = await api.get(`/v1/finetune_details?finetune_id=${unknown}`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { detail: 'Finetune not found or access denied' });
    r = await api.post('/v1/delete_finetune', { finetune_id: unknown });
    assert.equal(r.status, 404);
    r = await api.post('/v1/flux-pro-finetuned', { finetune_id: unknown, prompt: 'x' });
    assert.equal(r.status, 404);
    r = await api.get('/v1/nope');
    assert.equal(r.status, 404);
  });

  it('/openapi.json and /docs are served', async () => {
    const o = await api.get('/openapi.json');
    assert.equal(o.status, 200);
    for (const p of [
      '/v1/finetune',
      '/v1/get_result',
      '/v1/my_finetunes',
      '/v1/finetune_details',
      '/v1/delete_finetune',
      '/v1/flux-pro',
      '/v1/flux-pro-finetuned',
      '/v1/flux-pro-1.1-ultra',
      '/v1/flux-pro-1.1-ultra-finetuned',
    ]) {
      assert.ok(o.body.paths[p], p);
    }
    assert.deepEqual(o.body.components.schemas.FinetuneInputs.required, ['file_data', 'finetune_comment', 'mode']);
    const docs = await fetch(`${server.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get('content-type')!, /text\/html/);
  });

  it('delete_finetune: removes rows and files; afterwards every use is 404', async () => {
    const r = await api.post('/v1/delete_finetune', { finetune_id: finetuneId });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'Deleted');
    assert.equal(r.body.deleted_finetune_id, finetuneId);
    assert.ok(!Number.isNaN(Date.parse(r.body.timestamp)));
    assert.equal(await server.blobs.has(`finetunes/${finetuneId}/lora.safetensors`), false);
    assert.equal(await server.blobs.has(`finetunes/${finetuneId}/images/00.png`), false);
    assert.equal((await api.get(`/v1/get_result?id=${finetuneId}`)).status, 404);
    assert.equal((await api.get(`/v1/finetune_details?finetune_id=${finetuneId}`)).status, 404);
    assert.equal((await api.post('/v1/delete_finetune', { finetune_id: finetuneId })).status, 404);
    assert.equal((await api.post('/v1/flux-pro-1.1-ultra-finetuned', { finetune_id: finetuneId })).status, 404);
    assert.deepEqual((await api.get('/v1/my_finetunes')).body, { finetunes: [] });
  });
});

describe('API without a worker: 400 not ready, 429 limit, webhook submit form, region', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  before(async () => {
    // No backend: jobs stay queued, which makes "not ready" and the active-task limit observable.
    server = await startTestServer({ config: { maxActiveTasksPerKey: 3 }, env: { FLUXTUNE_WEBHOOK_ALLOW_PRIVATE: '0' } });
    api = apiClient(server.url, KEY_A);
  });
  after(() => server.stop());

  let pendingId: string;
  it('a Pending finetune cannot be used for inference: 400', async () => {
    const r = await api.post('/v1/finetune', { file_data: await datasetZip(), finetune_comment: 'p', mode: 'style' });
    assert.equal(r.status, 200);
    pendingId = r.body.finetune_id;
    const s = await api.get(`/v1/get_result?id=${pendingId}`);
    assert.deepEqual({ status: s.body.status, result: s.body.result, progress: s.body.progress }, { status: 'Pending', result: null, progress: 0 });
    const inf = await api.post('/v1/flux-pro-finetuned', { finetune_id: pendingId, prompt: 'x' });
    assert.equal(inf.status, 400);
    assert.deepEqual(inf.body, { detail: 'Finetune not ready' });
  });

  it('webhook submits answer {id, status: Pending, webhook_url}; private destinations are refused', async () => {
    const ok = await api.post('/v1/flux-pro', { prompt: 'x', webhook_url: 'https://example.com/hook' });
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys(ok.body).sort(), ['id', 'status', 'webhook_url']);
    assert.equal(ok.body.status, 'Pending');
    for (const url of ['http://127.0.0.1:9/x', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://localhost/x', 'http://169.254.169.254/latest']) {
      const r = await api.post('/v1/flux-pro', { prompt: 'x', webhook_url: url });
      assert.equal(r.status, 422, url);
      assert.deepEqual(r.body.detail[0].loc, ['body', 'webhook_url']);
    }
  });

  it('429 once the key has its limit of active tasks', async () => {
    const r1 = await api.post('/v1/flux-pro', { prompt: 'third' });
    assert.equal(r1.status, 200);
    const r2 = await api.post('/v1/flux-pro', { prompt: 'fourth' });
    assert.equal(r2.status, 429);
    assert.equal(typeof r2.body.detail, 'string');
    const r3 = await api.post('/v1/finetune', { file_data: await datasetZip(), finetune_comment: 'p', mode: 'style' });
    assert.equal(r3.status, 429);
  });

  it('a finetune is only found in its own region', async () => {
    await server.stop({ keepData: true });
    const eu = await startTestServer({ dataDir: server.dataDir, env: { FLUXTUNE_REGION: 'eu1' } });
    try {
      const euApi = apiClient(eu.url, KEY_A);
      assert.equal((await euApi.get(`/v1/get_result?id=${pendingId}`)).status, 404);
      assert.equal((await euApi.get(`/v1/finetune_details?finetune_id=${pendingId}`)).status, 404);
      assert.deepEqual((await euApi.get('/v1/my_finetunes')).body, { finetunes: [] });
    } finally {
      await eu.stop({ keepData: true });
    }
    server = await startTestServer({ dataDir: server.dataDir });
    const back = apiClient(server.url, KEY_A);
    assert.equal((await back.get(`/v1/finetune_details?finetune_id=${pendingId}`)).body.finetune_details.region, 'us1');
  });
});
