// End to end with the shipped flux-mini over HTTP: one server and ONE finetune (a LoRA of 100 iterations
// at priority speed, the smallest the API allows, on four penguin scenes) that every check uses, so the
// suite trains once where it used to train per file.
// - generations whose pixels change with finetune_strength while strength 0 reproduces the base exactly;
// - the structural -finetuned routes: one canny, one depth and one fill generation with that finetune
//   (steps 15, the routes' minimum) from a 4:3 scene, each fetched by its signed URL; the sample has the
//   input's size, fill keeps every pixel the mask keeps, exactly;
// - the LoRA round trip: a LoRA file imported over HTTP generates a different image than the base model;
//   downloaded in each layout and imported again it generates the same image — bit for bit from an fp32
//   file (the factors come back exactly), within a fraction of a grey level on average from a bf16 one
//   (0.02 measured).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { listConcepts, loadSprites, renderScene } from '../../src/model/pretrain/scenes.ts';
import { KEY_A } from '../service/support/harness.ts';
import { fluxMiniLoraFile } from '../support/flux-mini-lora.ts';
import { type Api, generate, type ModelServer, meanAbsDiff, serveDefaultModel, trainFinetune } from './support/model-server.ts';
import { sceneZip } from './support/scene-zip.ts';

describe('the shipped model through the API', () => {
  let served: ModelServer;
  let api: Api;
  before(async () => {
    served = await serveDefaultModel();
    api = served.api;
  });
  after(() => served?.stop());

  // Trained by whichever check asks first; a failure fails every check that needs it, with its reason.
  let trained: Promise<{ id: string; sawProgress: boolean }> | undefined;
  const finetune = async () => {
    trained ??= trainFinetune(
      api,
      {
        file_data: (await sceneZip(4)).toString('base64'),
        finetune_comment: 'penguin e2e',
        mode: 'character',
        iterations: 100,
        priority: 'speed',
        finetune_type: 'lora',
        lora_rank: 16,
        captioning: false,
      },
      600_000,
    );
    return trained;
  };

  it('finetunes, and the finetune strength changes the pixels (0 = base)', { timeout: 900_000 }, async () => {
    const { id, sawProgress } = await finetune();
    assert.ok(sawProgress, 'progress was reported while training');

    const common = { prompt: 'TOK on a white background', width: 256, height: 256, steps: 6, guidance: 4, seed: 42, output_format: 'png' };
    const base = (await generate(api, '/v1/flux-pro', common)).data;
    const zero = (await generate(api, '/v1/flux-pro-finetuned', { ...common, finetune_id: id, finetune_strength: 0 })).data;
    const one = (await generate(api, '/v1/flux-pro-finetuned', { ...common, finetune_id: id, finetune_strength: 1.5 })).data;
    assert.equal(base.length, 256 * 256 * 3);
    assert.deepEqual(zero, base, 'strength 0 reproduces the base model exactly');
    const mad = meanAbsDiff(one, base);
    assert.ok(mad > 1, `strength 1.5 changes the image (mean abs diff ${mad.toFixed(2)})`);
  });

  it('structural -finetuned routes: canny, depth and fill with the finetune are Ready, the input size, fill keeps the unmasked pixels', {
    timeout: 900_000,
  }, async () => {
    const W = 160;
    const H = 120;
    const png = (data: Uint8Array, channels: 1 | 3) =>
      sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width: W, height: H, channels } })
        .png()
        .toBuffer();
    const { id } = await finetune();
    const sprites = await loadSprites(listConcepts().filter((c) => c.name === 'penguin'));
    const scene = renderScene({ background: 'blue', objects: [{ concept: 'penguin', cx: 0.4, cy: 0.55, size: 0.6 }] }, sprites, W, H);
    const scenePng = (await png(scene.data, 3)).toString('base64');
    // Repaint the left half, keep the right.
    const mask = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W / 2; x++) mask[y * W + x] = 255;
    const maskPng = (await png(mask, 1)).toString('base64');

    const common = { finetune_id: id, finetune_strength: 1.1, prompt: 'TOK on a blue background', steps: 15, seed: 11, output_format: 'png' };
    const runs: [string, Record<string, unknown>][] = [
      ['flux-pro-1.0-canny-finetuned', { control_image: scenePng }],
      ['flux-pro-1.0-depth-finetuned', { control_image: scenePng }],
      ['flux-pro-1.0-fill-finetuned', { image: scenePng, mask: maskPng }],
    ];
    for (const [route, fields] of runs) {
      const { ready, data, info } = await generate(api, `/v1/${route}`, { ...common, ...fields });
      assert.deepEqual([info.width, info.height, info.channels], [W, H, 3], `${route}: the sample has the input's size`);
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

  it('LoRA download → import → generate: each downloaded layout imports again and generates the image the original import does', {
    timeout: 300_000,
  }, async () => {
    const common = { prompt: 'TOK on a white background', width: 256, height: 256, steps: 6, guidance: 4, seed: 7, output_format: 'png' };
    const importFile = async (bytes: Uint8Array, comment: string): Promise<string> => {
      const r = await api.post('/v1/finetune_import', { file_data: Buffer.from(bytes).toString('base64'), finetune_comment: comment });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.finetune_id;
    };
    const original = await importFile(fluxMiniLoraFile(8, 3, 2), 'e2e lora');
    const base = (await generate(api, '/v1/flux-pro', common)).data;
    const withLora = (await generate(api, '/v1/flux-pro-finetuned', { ...common, finetune_id: original, finetune_strength: 1 })).data;
    assert.ok(meanAbsDiff(withLora, base) > 1, `the imported LoRA changes the image (mean abs diff ${meanAbsDiff(withLora, base).toFixed(2)})`);

    for (const [format, dtype] of [
      ['comfyui', 'fp32'],
      ['diffusers', 'fp32'],
      ['bfl', 'fp32'],
      ['comfyui', 'bf16'],
    ] as const) {
      const res = await fetch(`${served.server.url}/v1/finetune_weights?finetune_id=${original}&format=${format}&dtype=${dtype}`, {
        headers: { 'x-key': KEY_A },
      });
      assert.equal(res.status, 200);
      const again = await importFile(new Uint8Array(await res.arrayBuffer()), `${format} ${dtype}`);
      const image = (await generate(api, '/v1/flux-pro-finetuned', { ...common, finetune_id: again, finetune_strength: 1 })).data;
      if (dtype === 'fp32') assert.deepEqual(image, withLora, `${format}/${dtype}: the same image`);
      else assert.ok(meanAbsDiff(image, withLora) < 0.5, `${format}/${dtype}: mean abs diff ${meanAbsDiff(image, withLora).toFixed(2)}`);
    }
  });
});
