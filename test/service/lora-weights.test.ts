// GET /v1/finetune_weights and POST /v1/finetune_import over HTTP (test-double backend): a LoRA
// file of flux-mini's geometry imported as a Ready finetune that finetune_details, get_result and
// the -finetuned endpoints accept; downloaded in every format and dtype, each parsing back to the
// same LoRA, named by Content-Disposition; re-imported from a download; refusals as the guards
// answer them (403, 404 like finetune_details, 400 not ready) and 422s that name the key.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseSafetensors } from '../../src/engine/safetensors.ts';
import { loadFluxMiniConfig } from '../../src/model/flux-mini/config.ts';
import { readLora, writeLora } from '../../src/model/lora/files.ts';
import type { Lora } from '../../src/model/lora/lora.ts';
import { createApiKey } from '../../src/service/auth/api-keys.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { fluxMiniLora } from '../support/flux-mini-lora.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

const params = loadFluxMiniConfig().flux;
const TOL = { bf16: 5e-3, fp16: 1e-3, fp32: 0 } as const;

function factorError(a: Lora, b: Lora): number {
  let worst = 0;
  for (const [path, m] of a) {
    const n = b.get(path);
    if (!n) return Number.POSITIVE_INFINITY;
    for (const [x, y] of [
      [m.down, n.down],
      [m.up, n.up],
    ] as const) {
      let err = 0;
      let ref = 0;
      for (let i = 0; i < x.length; i++) {
        err += (x[i]! - y[i]!) ** 2;
        ref += x[i]! ** 2;
      }
      worst = Math.max(worst, Math.sqrt(err / ref));
    }
  }
  return a.size === b.size ? worst : Number.POSITIVE_INFINITY;
}

describe('LoRA download and import over HTTP', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  // Training "steps" a minute each: a submitted finetune stays Pending for the 400 case.
  const backend = new DeterministicTestBackend({ steps: 4, stepDelayMs: 60_000 });
  const lora = fluxMiniLora(4);
  let finetuneId: string;
  let againId: string;

  const download = (query: string, key = KEY_A) => fetch(`${server.url}/v1/finetune_weights?${query}`, { headers: { 'x-key': key } });

  before(async () => {
    server = await startTestServer({ backend });
    api = apiClient(server.url, KEY_A);
  });
  after(() => server.stop());

  it('import: a Ready finetune at once, consistent in finetune_details, get_result and my_finetunes', async () => {
    const r = await api.post('/v1/finetune_import', {
      file_data: `data:application/octet-stream;base64,${Buffer.from(writeLora(lora)).toString('base64')}`,
      finetune_comment: 'my cat',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    finetuneId = r.body.finetune_id;
    assert.equal(r.body.id, finetuneId);
    assert.deepEqual([r.body.status, r.body.layout, r.body.lora_rank, r.body.modules], ['Ready', 'bfl', 4, lora.size]);
    assert.equal(r.body.polling_url, `${server.url}/v1/get_result?id=${finetuneId}`);

    const details = (await api.get(`/v1/finetune_details?finetune_id=${finetuneId}`)).body.finetune_details;
    assert.deepEqual(
      {
        finetune_comment: details.finetune_comment,
        trigger_word: details.trigger_word,
        mode: details.mode,
        finetune_type: details.finetune_type,
        lora_rank: details.lora_rank,
        iterations: details.iterations,
        learning_rate: details.learning_rate,
        captioning: details.captioning,
        status: details.status,
        progress: details.progress,
        image_count: details.image_count,
        captions: details.captions,
        training_seconds: details.training_seconds,
        region: details.region,
      },
      {
        finetune_comment: 'my cat',
        trigger_word: 'TOK',
        mode: 'general',
        finetune_type: 'lora',
        lora_rank: 4,
        iterations: 0,
        learning_rate: 0,
        captioning: false,
        status: 'Ready',
        progress: 1,
        image_count: 0,
        captions: [],
        training_seconds: null,
        region: 'us1',
      },
    );
    const result = (await api.get(`/v1/get_result?id=${finetuneId}`)).body;
    assert.deepEqual([result.status, result.result], ['Ready', { finetune_id: finetuneId }]);
    assert.ok((await api.get('/v1/my_finetunes')).body.finetunes.includes(finetuneId));
    assert.equal(backend.log.trains.length, 0, 'no training job');
  });

  it('every format × dtype parses back to the same LoRA; named <comment>.<format>.safetensors; metadata says what it is', async () => {
    for (const format of ['comfyui', 'kohya', 'diffusers', 'bfl'] as const) {
      for (const dtype of ['bf16', 'fp16', 'fp32'] as const) {
        const res = await download(`finetune_id=${finetuneId}&format=${format}&dtype=${dtype}`);
        assert.equal(res.status, 200, `${format}/${dtype}: ${await res.clone().text()}`);
        assert.equal(res.headers.get('content-type'), 'application/octet-stream');
        assert.equal(
          res.headers.get('content-disposition'),
          `attachment; filename="my cat.${format}.safetensors"; filename*=UTF-8''my%20cat.${format}.safetensors`,
        );
        const bytes = new Uint8Array(await res.arrayBuffer());
        const file = parseSafetensors(bytes);
        const stored = { bf16: 'BF16', fp16: 'F16', fp32: 'F32' }[dtype];
        assert.ok(
          [...file.tensors.values()].every((t) => t.dtype === stored),
          `${format}/${dtype}: every tensor ${stored}`,
        );
        const back = readLora(bytes, params);
        assert.ok(factorError(lora, back) <= TOL[dtype], `${format}/${dtype}: ${factorError(lora, back)}`);
        assert.equal(file.metadata['fluxtune.base_model'], 'flux-mini');
        assert.match(file.metadata.ss_new_sd_model_hash ?? '', /^[0-9a-f]{64}$/);
        assert.equal(file.metadata['modelspec.trigger_phrase'], 'TOK');
        assert.equal(file.metadata['fluxtune.finetune_id'], finetuneId);
        assert.equal(file.metadata['fluxtune.imported'], 'true');
        assert.equal(file.metadata.ss_max_train_steps, undefined, 'an import claims no training');
      }
    }
    // The defaults: comfyui, bf16.
    const res = await download(`finetune_id=${finetuneId}`);
    assert.match(res.headers.get('content-disposition')!, /filename="my cat\.comfyui\.safetensors"/);
    const file = parseSafetensors(new Uint8Array(await res.arrayBuffer()));
    assert.ok([...file.tensors.keys()].every((k) => k.startsWith('lora_unet_')));
    assert.ok([...file.tensors.values()].every((t) => t.dtype === 'BF16'));
  });

  it('a download imports again as an equal finetune, which the -finetuned endpoints use', async () => {
    const res = await download(`finetune_id=${finetuneId}&format=diffusers&dtype=fp32`);
    const again = await api.post('/v1/finetune_import', {
      file_data: Buffer.from(await res.arrayBuffer()).toString('base64'),
      finetune_comment: 'again',
      trigger_word: 'mycstm',
    });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.layout, 'diffusers');
    againId = again.body.finetune_id;
    const back = readLora(new Uint8Array(await (await download(`finetune_id=${again.body.finetune_id}&format=bfl&dtype=fp32`)).arrayBuffer()), params);
    assert.equal(factorError(lora, back), 0, 'fp32 round trip through the diffusers layout is exact');
    assert.equal((await api.get(`/v1/finetune_details?finetune_id=${again.body.finetune_id}`)).body.finetune_details.trigger_word, 'mycstm');

    const gen = await api.post('/v1/flux-pro-finetuned', {
      finetune_id: again.body.finetune_id,
      prompt: 'a photo of mycstm',
      finetune_strength: 0.8,
      width: 256,
      height: 256,
    });
    assert.equal(gen.status, 200, JSON.stringify(gen.body));
    const done = await waitUntil(async () => {
      const r = (await api.get(`/v1/get_result?id=${gen.body.id}`)).body;
      return r.status === 'Ready' ? r : null;
    });
    assert.ok(done.result.sample);
    const sent = backend.log.generates.at(-1)!.lora!;
    assert.equal(sent.strength, 0.8);
    assert.equal(factorError(lora, readLora(sent.bytes, params)), 0, 'the model is handed the imported LoRA');
  });

  it('the trigger word defaults to the one the file records', async () => {
    const res = await download(`finetune_id=${againId}&format=kohya`);
    const r = await api.post('/v1/finetune_import', {
      file_data: Buffer.from(await res.arrayBuffer()).toString('base64'),
      finetune_comment: 'no trigger given',
    });
    assert.equal(r.status, 200);
    assert.equal((await api.get(`/v1/finetune_details?finetune_id=${r.body.finetune_id}`)).body.finetune_details.trigger_word, 'mycstm');
  });

  it('refusals: 403 without a key, 404 unknown / another key’s, 400 not ready, 422 a bad format', async () => {
    assert.equal((await download(`finetune_id=${finetuneId}`, 'wrong')).status, 403);
    assert.equal((await fetch(`${server.url}/v1/finetune_weights?finetune_id=${finetuneId}`)).status, 403);
    assert.equal((await apiClient(server.url, 'wrong').post('/v1/finetune_import', {})).status, 403);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await download(`finetune_id=${id}`);
      assert.deepEqual([res.status, await res.json()], [404, { detail: 'Finetune not found or access denied' }]);
    }
    const other = (await createApiKey(server.db, 'other')).key;
    const res = await download(`finetune_id=${finetuneId}`, other);
    assert.deepEqual([res.status, await res.json()], [404, { detail: 'Finetune not found or access denied' }]);
    assert.ok(!(await apiClient(server.url, other).get('/v1/my_finetunes')).body.finetunes.includes(finetuneId));

    const zip = b64(await buildZip([{ name: 'a.png', data: await solidPng(32, 32) }]));
    const pending = await api.post('/v1/finetune', { file_data: zip, finetune_comment: 'training', mode: 'product' });
    assert.equal(pending.status, 200);
    const notReady = await download(`finetune_id=${pending.body.finetune_id}`);
    assert.deepEqual([notReady.status, await notReady.json()], [400, { detail: 'Finetune not ready' }]);

    const bad = await download(`finetune_id=${finetuneId}&format=safetensors&dtype=int8`);
    assert.equal(bad.status, 422);
    assert.deepEqual(
      ((await bad.json()) as { detail: { loc: string[] }[] }).detail.map((d) => d.loc.join('.')),
      ['query.format', 'query.dtype'],
    );
  });

  it('import refusals are 422s at body.file_data naming the key; nothing is stored', async () => {
    const before = (await api.get('/v1/my_finetunes')).body.finetunes.length;
    const refused = async (file_data: string, message: RegExp) => {
      const r = await api.post('/v1/finetune_import', { file_data, finetune_comment: 'x' });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.detail.length, 1);
      assert.deepEqual(r.body.detail[0].loc, ['body', 'file_data']);
      assert.match(r.body.detail[0].msg, message);
    };
    await refused('not base64 at all!', /file_data is not valid base64/);
    await refused(Buffer.from('hello world, no tensors here').toString('base64'), /not a readable safetensors file/);
    const wide = new Map(
      [...lora]
        .filter(([p]) => p === 'double_blocks.0.img_attn.qkv')
        .map(([p, m]) => [p, { ...m, inFeatures: 3072, outFeatures: 9216, down: new Float32Array(4 * 3072), up: new Float32Array(9216 * 4) }]),
    );
    await refused(
      Buffer.from(writeLora(wide, 'kohya')).toString('base64'),
      /'lora_unet_double_blocks_0_img_attn_qkv\.lora_down\.weight' is 9216×3072, the model's Linear 768×256/,
    );
    const img = new Map([['img_in', { rank: 2, inFeatures: 192, outFeatures: 256, down: new Float32Array(2 * 192), up: new Float32Array(256 * 2) }]]);
    await refused(Buffer.from(writeLora(img)).toString('base64'), /'img_in\.lora_A\.weight'/);
    const missing = await api.post('/v1/finetune_import', { finetune_comment: 'x' });
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body.detail[0].loc, ['body', 'file_data']);
    assert.equal((await api.get('/v1/my_finetunes')).body.finetunes.length, before);
  });

  it('an import with a webhook_url is delivered as Ready', async () => {
    const received: unknown[] = [];
    const { createServer } = await import('node:http');
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((ok) => hook.listen(0, '127.0.0.1', ok));
    try {
      const port = (hook.address() as { port: number }).port;
      const r = await api.post('/v1/finetune_import', {
        file_data: Buffer.from(writeLora(lora)).toString('base64'),
        finetune_comment: 'hooked',
        webhook_url: `http://127.0.0.1:${port}/hook`,
        webhook_secret: 's',
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.webhook_url, `http://127.0.0.1:${port}/hook`);
      const got = (await waitUntil(async () => received[0])) as { id: string; status: string; result: unknown };
      assert.deepEqual([got.id, got.status, got.result], [r.body.id, 'Ready', { finetune_id: r.body.id }]);
    } finally {
      hook.close();
    }
  });
});
