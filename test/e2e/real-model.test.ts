// End to end with the shipped flux-mini, at the smallest settings the API allows: a LoRA finetune of
// 100 iterations at priority speed over HTTP, then generations whose pixels change with
// finetune_strength while strength 0 reproduces the base model exactly.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import yazl from 'yazl';
import { listConcepts, loadSprites, renderScene } from '../../src/model/pretrain/scenes.ts';
import { ThreadedBackend } from '../../src/service/jobs/threaded-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from '../service/support/harness.ts';

async function trainingZip(): Promise<string> {
  const sprites = await loadSprites(listConcepts().filter((c) => c.name === 'penguin'));
  const zip = new yazl.ZipFile();
  const backgrounds = ['white', 'blue', 'green', 'yellow'];
  for (let i = 0; i < 4; i++) {
    const img = renderScene({ background: backgrounds[i]!, objects: [{ concept: 'penguin', cx: 0.5, cy: 0.5, size: 0.7 }] }, sprites, 128, 128);
    zip.addBuffer(
      await sharp(img.data, { raw: { width: 128, height: 128, channels: 3 } })
        .png()
        .toBuffer(),
      `img${i}.png`,
    );
    zip.addBuffer(Buffer.from(`TOK on a ${backgrounds[i]} background`), `img${i}.txt`);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('base64');
}

describe('the shipped model through the API', () => {
  let server: TestServer;
  let backend: ThreadedBackend;
  before(async () => {
    backend = await ThreadedBackend.start({ module: new URL('../../src/model/index.ts', import.meta.url).href, exportName: 'loadDefaultBackend' });
    server = await startTestServer({ backend });
  });
  after(async () => {
    await server?.stop();
    await backend?.close();
  });

  async function sample(route: string, body: Record<string, unknown>): Promise<Uint8Array> {
    const api = apiClient(server.url, KEY_A);
    const submitted = await api.post(route, body);
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    const ready = await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${submitted.body.id}`);
        assert.notEqual(r.body.status, 'Error', JSON.stringify(r.body));
        return r.body.status === 'Ready' ? r.body : null;
      },
      120_000,
      100,
    );
    const png = Buffer.from(await (await fetch(ready.result.sample)).arrayBuffer());
    return new Uint8Array(await sharp(png).raw().toBuffer());
  }

  it('finetunes, and the finetune strength changes the pixels (0 = base)', { timeout: 600_000 }, async () => {
    const api = apiClient(server.url, KEY_A);
    const res = await api.post('/v1/finetune', {
      file_data: await trainingZip(),
      finetune_comment: 'penguin e2e',
      mode: 'character',
      iterations: 100,
      priority: 'speed',
      finetune_type: 'lora',
      lora_rank: 16,
      captioning: false,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const id = res.body.finetune_id as string;
    let sawProgress = false;
    await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${id}`);
        assert.notEqual(r.body.status, 'Error', JSON.stringify(r.body));
        if (typeof r.body.progress === 'number' && r.body.progress > 0 && r.body.progress < 1) sawProgress = true;
        return r.body.status === 'Ready';
      },
      480_000,
      200,
    );
    assert.ok(sawProgress, 'progress was reported while training');

    const common = { prompt: 'TOK on a white background', width: 256, height: 256, steps: 6, guidance: 4, seed: 42, output_format: 'png' };
    const base = await sample('/v1/flux-pro', common);
    const zero = await sample('/v1/flux-pro-finetuned', { ...common, finetune_id: id, finetune_strength: 0 });
    const one = await sample('/v1/flux-pro-finetuned', { ...common, finetune_id: id, finetune_strength: 1.5 });
    assert.equal(base.length, 256 * 256 * 3);
    assert.deepEqual(zero, base, 'strength 0 reproduces the base model exactly');
    const mad = one.reduce((n, x, i) => n + Math.abs(x - base[i]!), 0) / base.length;
    assert.ok(mad > 1, `strength 1.5 changes the image (mean abs diff ${mad.toFixed(2)})`);
  });
});
