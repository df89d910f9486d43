// The structural -finetuned routes end to end with the shipped flux-mini: a real LoRA finetune trained
// over HTTP at the smallest settings the API allows, then one canny, one depth and one fill generation
// with it (steps 15, the routes' minimum) from a 4:3 scene, each fetched by its signed URL. The sample
// has the input's size; fill keeps every pixel the mask keeps, exactly.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import yazl from 'yazl';
import { listConcepts, loadSprites, renderScene } from '../../src/model/pretrain/scenes.ts';
import { ThreadedBackend } from '../../src/service/jobs/threaded-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from '../service/support/harness.ts';

const W = 160;
const H = 120;

const png = (data: Uint8Array, width: number, height: number, channels: 1 | 3) =>
  sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width, height, channels } })
    .png()
    .toBuffer();

async function trainingZip(sprites: Awaited<ReturnType<typeof loadSprites>>): Promise<string> {
  const zip = new yazl.ZipFile();
  const backgrounds = ['white', 'blue', 'green', 'yellow'];
  for (const [i, background] of backgrounds.entries()) {
    const img = renderScene({ background, objects: [{ concept: 'penguin', cx: 0.5, cy: 0.5, size: 0.7 }] }, sprites, 128, 128);
    zip.addBuffer(await png(img.data, 128, 128, 3), `img${i}.png`);
    zip.addBuffer(Buffer.from(`TOK on a ${background} background`), `img${i}.txt`);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('base64');
}

describe('structural -finetuned routes with the shipped model', () => {
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

  it('canny, depth and fill with a real finetune: Ready, the input size, fill keeps the unmasked pixels', { timeout: 900_000 }, async () => {
    const api = apiClient(server.url, KEY_A);
    const sprites = await loadSprites(listConcepts().filter((c) => c.name === 'penguin'));
    const res = await api.post('/v1/finetune', {
      file_data: await trainingZip(sprites),
      finetune_comment: 'penguin structural e2e',
      mode: 'character',
      iterations: 100,
      priority: 'speed',
      finetune_type: 'lora',
      lora_rank: 16,
      captioning: false,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const finetuneId = res.body.finetune_id as string;
    await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${finetuneId}`);
        assert.notEqual(r.body.status, 'Error', JSON.stringify(r.body));
        return r.body.status === 'Ready';
      },
      600_000,
      200,
    );

    const scene = renderScene({ background: 'blue', objects: [{ concept: 'penguin', cx: 0.4, cy: 0.55, size: 0.6 }] }, sprites, W, H);
    const scenePng = (await png(scene.data, W, H, 3)).toString('base64');
    // Repaint the left half, keep the right.
    const mask = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W / 2; x++) mask[y * W + x] = 255;
    const maskPng = (await png(mask, W, H, 1)).toString('base64');

    const common = { finetune_id: finetuneId, finetune_strength: 1.1, prompt: 'TOK on a blue background', steps: 15, seed: 11, output_format: 'png' };
    const runs: [string, Record<string, unknown>][] = [
      ['flux-pro-1.0-canny-finetuned', { control_image: scenePng }],
      ['flux-pro-1.0-depth-finetuned', { control_image: scenePng }],
      ['flux-pro-1.0-fill-finetuned', { image: scenePng, mask: maskPng }],
    ];
    for (const [route, fields] of runs) {
      const submitted = await api.post(`/v1/${route}`, { ...common, ...fields });
      assert.equal(submitted.status, 200, `${route}: ${JSON.stringify(submitted.body)}`);
      const ready = await waitUntil(
        async () => {
          const r = await api.get(`/v1/get_result?id=${submitted.body.id}`);
          assert.notEqual(r.body.status, 'Error', `${route}: ${JSON.stringify(r.body)}`);
          return r.body.status === 'Ready' ? r.body : null;
        },
        300_000,
        100,
      );
      const file = await fetch(ready.result.sample);
      assert.equal(file.status, 200);
      const { data, info } = await sharp(Buffer.from(await file.arrayBuffer()))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.format, info.width, info.height], ['raw', W, H], `${route}: the sample has the input's size`);
      assert.equal(ready.result.seed, 11);
      if (route.includes('fill')) {
        let kept = 0;
        let changed = 0;
        for (let i = 0; i < W * H; i++) {
          const same = data[i * 3] === scene.data[i * 3] && data[i * 3 + 1] === scene.data[i * 3 + 1] && data[i * 3 + 2] === scene.data[i * 3 + 2];
          if (mask[i] === 0) kept += same ? 1 : 0;
          else changed += same ? 0 : 1;
        }
        assert.equal(kept, (W * H) / 2, 'every pixel the mask keeps is the input, exactly');
        assert.ok(changed > 0, 'the masked half is repainted');
      } else {
        const mean = data.reduce((n, v) => n + v, 0) / data.length;
        const spread = data.reduce((n, v) => n + Math.abs(v - mean), 0) / data.length;
        assert.ok(spread > 1, `${route}: the sample is not a flat image (mean abs deviation ${spread.toFixed(2)})`);
      }
    }
  });
});
