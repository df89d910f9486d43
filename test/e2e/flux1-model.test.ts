// FLUXTUNE_MODEL end to end over HTTP: a tiny random FLUX.1 checkpoint folder (written here, in
// BFL's single-file layout and in diffusers' folder layout: flux1-tiny-folder.ts) served through
// the default backend entry in a worker thread, as `fluxtune serve` does. /v1/flux-pro samples
// with the real pipeline (T5 + CLIP, FLUX.1 transformer, autoencoder) and both layouts give the
// same pixels; a LoRA imported with /v1/finetune_import (checked against this model) samples on
// /v1/flux-pro-finetuned (strength 0 = the base exactly); /v1/finetune trains a LoRA on the model
// (100 steps at priority speed) whose finetune then samples there too.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { tinyLoraFile, writeTinyFlux1Folder } from '../model/flux1-tiny-folder.ts';
import { generate, meanAbsDiff, serveDefaultModel, trainFinetune } from './support/model-server.ts';

const TINY_ZIP = async () => {
  const yazl = (await import('yazl')).default;
  const zip = new yazl.ZipFile();
  for (let i = 0; i < 2; i++) {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40 * i, g: 120, b: 200 } } })
      .png()
      .toBuffer();
    zip.addBuffer(png, `img${i}.png`);
    zip.addBuffer(Buffer.from('TOK on blue'), `img${i}.txt`);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('base64');
};

describe('FLUXTUNE_MODEL=<a FLUX.1 checkpoint folder> over HTTP', () => {
  const roots: string[] = [];
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  const pixels: Record<string, Uint8Array> = {};

  for (const layout of ['bfl', 'diffusers'] as const) {
    it(`${layout} layout: /v1/flux-pro samples with the real pipeline, an imported LoRA on /v1/flux-pro-finetuned, /v1/finetune trains one (bfl)`, {
      timeout: 300_000,
    }, async (t) => {
      const root = writeTinyFlux1Folder(layout);
      roots.push(root);
      const served = await serveDefaultModel({ FLUXTUNE_MODEL: root });
      const { api } = served;
      try {
        const sample = async (route: string, extra: Record<string, unknown> = {}) => {
          const body = { prompt: 'a photo of TOK', width: 256, height: 256, steps: 2, guidance: 3.5, seed: 42, output_format: 'png', ...extra };
          const { data, info } = await generate(api, route, body, 120_000);
          assert.deepEqual([info.width, info.height, info.channels], [256, 256, 3]);
          return data;
        };
        const base = await sample('/v1/flux-pro');
        pixels[layout] = base;
        assert.ok(new Set(base).size > 20, 'the sample is not flat');

        // A LoRA trained elsewhere, imported against this model, sampled on the -finetuned route.
        const lora = Buffer.from(tinyLoraFile()).toString('base64');
        const imported = await api.post('/v1/finetune_import', { file_data: lora, finetune_comment: 'tiny lora', trigger_word: 'TOK' });
        assert.equal(imported.status, 200, JSON.stringify(imported.body));
        const finetune_id = imported.body.finetune_id as string;
        const zero = await sample('/v1/flux-pro-finetuned', { finetune_id, finetune_strength: 0 });
        assert.deepEqual(zero, base, 'strength 0 is the base model exactly');
        const one = await sample('/v1/flux-pro-finetuned', { finetune_id, finetune_strength: 1 });
        const mad = meanAbsDiff(one, base);
        t.diagnostic(`${layout}: LoRA at strength 1 moves pixels by ${mad.toFixed(2)} on average`);
        assert.ok(mad > 1, `the LoRA changes the image (mean abs diff ${mad.toFixed(2)})`);

        if (layout === 'diffusers') return; // training does not depend on the layout: once is enough
        const ft = await trainFinetune(
          api,
          {
            file_data: await TINY_ZIP(),
            finetune_comment: 'real model',
            mode: 'general',
            iterations: 100,
            priority: 'speed',
            finetune_type: 'lora',
            lora_rank: 16,
            learning_rate: 0.003,
            captioning: false,
          },
          240_000,
        );
        const trained = await sample('/v1/flux-pro-finetuned', { finetune_id: ft.id, finetune_strength: 1 });
        const moved = meanAbsDiff(trained, base);
        t.diagnostic(`the finetune trained here moves pixels by ${moved.toFixed(2)} on average`);
        assert.ok(moved > 0.1, `the trained LoRA changes the image (mean abs diff ${moved.toFixed(2)})`);
      } finally {
        await served.stop();
      }
    });
  }

  it('both layouts of the same weights give the same pixels', () => {
    assert.ok(pixels.bfl && pixels.diffusers, 'both layouts sampled');
    assert.deepEqual(pixels.diffusers, pixels.bfl);
  });
});
