// The control variants' pieces: widening img_in leaves the model exactly the base until trained,
// an adapter merges into the base as a LoRA plus its own img_in, the training masks are what they
// claim, fill keeps every unmasked pixel, and a short training run writes a loadable adapter.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../src/engine/rng.ts';
import type { RgbImage } from '../../src/model/backend.ts';
import { imageToTokens } from '../../src/model/codec/patches.ts';
import { pixelCodec } from '../../src/model/conditioning/condition.ts';
import { adapterFile, controlParams, initialVariantWeights, variantWeights, widenImgIn } from '../../src/model/conditioning/control-variant.ts';
import { FluxRunner } from '../../src/model/flux/runner.ts';
import { loadFluxMiniConfig } from '../../src/model/flux-mini/config.ts';
import { conditionTokens, structuralOutput } from '../../src/model/flux-mini/structural.ts';
import { TextEncoderSession } from '../../src/model/flux-mini/text-session.ts';
import { loadFluxMiniWeights } from '../../src/model/flux-mini/weights.ts';
import { deltaWeight } from '../../src/model/lora/lora.ts';
import { footprintBox, MASK_KINDS, randomMask } from '../../src/model/pretrain/random-mask.ts';
import { CORE_CONCEPTS, listConcepts, loadSprites } from '../../src/model/pretrain/scenes.ts';
import { trainControl } from '../../src/model/pretrain/train-control.ts';
import { concatChannels } from '../../src/model/sampling/sampler.ts';
import { readTensors } from '../../src/model/tensors.ts';
import { forwardBatch, load, params, relErr, shape } from './flux-tiny-fixture.ts';

const solid = (width: number, height: number, rgb: [number, number, number]): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
};

describe('control variant weights', () => {
  const codec = { channels: 4, factor: 1, patch: 2 };

  it('a widened img_in with zero columns is the base model for any condition', async () => {
    const vp = controlParams(params, 'canny', codec);
    assert.equal(vp.in_channels, params.out_channels + 16);
    const weights = load('weights');
    const base = await FluxRunner.create({ params, weights, shape, dtype: 'float64' });
    const variant = await FluxRunner.create({ params: vp, weights: initialVariantWeights(weights, vp), shape, dtype: 'float64' });
    const batch = forwardBatch();
    const tokens = shape.batch * shape.imgTokens;
    const cond = new Rng(3).fillNormal(new Float64Array(tokens * 16));
    const a = await base.forward(batch);
    const b = await variant.forward({ ...batch, img: concatChannels(batch.img, cond, tokens, params.in_channels, 16) });
    assert.ok(relErr(b, a) < 1e-12, `relative error ${relErr(b, a)}`);
    await base.release();
    await variant.release();
  });

  it('refuses to narrow img_in', () => {
    assert.throws(() => widenImgIn({ shape: [4, 8], data: new Float32Array(32) }, 4), /narrow/);
  });

  it('an adapter is its own img_in plus a LoRA merged into the block Linears', () => {
    const vp = controlParams(params, 'fill', codec);
    const weights = load('weights');
    const path = 'double_blocks.0.img_attn.qkv';
    const w = weights.get(`${path}.weight`)!;
    const [out, inF] = w.shape as [number, number];
    const rng = new Rng(5);
    const imgIn = { shape: [params.hidden_size, vp.in_channels], data: rng.fillNormal(new Float32Array(params.hidden_size * vp.in_channels)) };
    const down = rng.fillNormal(new Float32Array(2 * inF));
    const up = rng.fillNormal(new Float32Array(out * 2));
    const adapter = new Map([
      ['img_in.weight', imgIn],
      [`${path}.lora_A.weight`, { shape: [2, inF], data: down }],
      [`${path}.lora_B.weight`, { shape: [out, 2], data: up }],
    ]);
    const merged = variantWeights(weights, adapter, vp);
    assert.deepEqual(Array.from(merged.get('img_in.weight')!.data), Array.from(imgIn.data));
    const delta = deltaWeight({ rank: 2, inFeatures: inF, outFeatures: out, down, up });
    const got = merged.get(`${path}.weight`)!.data;
    for (let i = 0; i < got.length; i += 97) assert.ok(Math.abs(got[i]! - (w.data[i]! + delta[i]!)) < 1e-5);
    assert.equal(merged.get('double_blocks.0.txt_attn.qkv.weight'), weights.get('double_blocks.0.txt_attn.qkv.weight'));
    assert.throws(() => variantWeights(weights, new Map([['img_in.weight', weights.get('img_in.weight')!]]), vp), /img_in\.weight must be/);
  });
});

describe('fill training masks', () => {
  it('every kind is a non-trivial 0/1 mask; borders keep an inner rectangle', async () => {
    const sprites = await loadSprites(listConcepts().filter((c) => c.name === 'cat'));
    const objects = [{ placement: { concept: 'cat', cx: 0.5, cy: 0.5, size: 0.6 }, sprite: sprites.get('cat')! }];
    const seen = new Set<string>();
    const rng = new Rng(11);
    for (let i = 0; i < 200; i++) {
      const { kind, mask } = randomMask(rng, 64, objects);
      seen.add(kind);
      const area = mask.reduce((a, b) => a + b, 0) / mask.length;
      assert.ok(
        mask.every((v) => v === 0 || v === 1),
        kind,
      );
      assert.ok(area > 0.01 && area < 1, `${kind}: area ${area}`);
      if (kind === 'border') assert.equal(mask[32 * 64 + 32], 0, 'the centre is kept');
      if (kind === 'silhouette') assert.equal(mask[32 * 64 + 32], 1, "the cat's centre is repainted");
      if (kind === 'object-box') {
        // the box holds the cat's whole footprint and room around it
        const [x0, y0, x1, y1] = footprintBox(objects[0]!.placement, objects[0]!.sprite, 64);
        for (const [x, y] of [
          [x0, y0],
          [x1 - 1, y0],
          [x0, y1 - 1],
          [x1 - 1, y1 - 1],
        ] as const)
          assert.equal(mask[y * 64 + x], 1, `footprint corner ${x},${y}`);
        assert.ok(area > ((x1 - x0) * (y1 - y0)) / 4096, 'larger than the footprint');
      }
    }
    assert.deepEqual([...seen].sort(), [...MASK_KINDS].sort());
  });
});

describe('structural requests on flux-mini', () => {
  const grid = { rows: 2, cols: 2, patch: 8 };
  const never = {
    canny: () => {
      throw new Error('preprocessed: no canny');
    },
    depth: () => Promise.reject(new Error('preprocessed: no depth')),
  };

  it('a preprocessed control image is the condition as is; fill packs the masked image then the mask', async () => {
    const img = solid(16, 16, [255, 0, 0]);
    const canny = await conditionTokens({ kind: 'canny', image: img, preprocessed: true, lowThreshold: 50, highThreshold: 200 }, grid, never);
    assert.deepEqual(Array.from(canny), Array.from(imageToTokens(img, 8)));
    const mask = new Uint8Array(16 * 16);
    mask.fill(255, 0, 8 * 16); // repaint the top half
    const fill = await conditionTokens({ kind: 'fill', image: img, mask }, grid, never);
    const per = 192 + 64;
    assert.equal(fill.length, 4 * per);
    // top tokens: image zeroed (grey) and mask 1; bottom tokens: the image and mask 0
    assert.equal(fill[0], 0);
    assert.equal(fill[192], 1);
    assert.equal(fill[2 * per], 1);
    assert.equal(fill[2 * per + 192], 0);
  });

  it('fill keeps the unmasked pixels exactly and takes the sample, its colours matched to the kept ones, where the mask repaints', async () => {
    const image = solid(20, 10, [10, 20, 30]);
    const mask = new Uint8Array(200);
    mask.fill(255, 0, 100);
    mask[150] = 128;
    // a flat sample 190/80/20 levels off the kept colour, with one detail pixel 50 levels brighter
    const sample = solid(20, 10, [200, 100, 50]);
    sample.data.set([250, 150, 100], 30 * 3);
    const out = await structuralOutput(sample, { kind: 'fill', image, mask }, 20, 10);
    assert.deepEqual([out.width, out.height], [20, 10]);
    assert.deepEqual(Array.from(out.data.subarray(120 * 3, 121 * 3)), [10, 20, 30], 'kept');
    assert.deepEqual(Array.from(out.data.subarray(0, 3)), [10, 20, 30], 'the offset is gone: no step at the outline');
    assert.deepEqual(Array.from(out.data.subarray(30 * 3, 31 * 3)), [60, 70, 80], "the sample's detail stays");
    assert.deepEqual(Array.from(out.data.subarray(150 * 3, 151 * 3)), [10, 20, 30]);
  });
});

describe('trainControl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'control-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('trains a few steps at a tiny size and writes an adapter the backend can merge', async () => {
    const config = loadFluxMiniConfig();
    const weights = loadFluxMiniWeights();
    const text = await TextEncoderSession.create(config, weights.text, 1);
    const concepts = listConcepts().filter((c) => CORE_CONCEPTS.slice(0, 3).includes(c.name));
    const modelDir = pathToFileURL(`${dir}/`);
    const options = {
      kind: 'fill' as const,
      config,
      weights: weights.flux,
      text,
      sprites: await loadSprites(concepts),
      concepts: concepts.map((c) => c.name),
      modelDir,
      checkpointPath: join(dir, 'fill.ckpt'),
      seed: 1,
      lr: 1e-3,
      rank: 4,
      steps: 3,
      deadline: Date.now() + 600_000,
      checkpointEvery: 2,
      resolutions: [{ size: 16, batch: 2 }],
      threads: 1,
      log: () => {},
    };
    const state = await trainControl(options);
    assert.equal(state.step, 3);
    const adapter = readTensors(readFileSync(new URL(adapterFile('fill'), modelDir))).tensors;
    const vp = controlParams(config.flux, 'fill', pixelCodec(8));
    assert.deepEqual(adapter.get('img_in.weight')!.shape, [config.flux.hidden_size, vp.in_channels]);
    const merged = variantWeights(weights.flux, adapter, vp);
    assert.notDeepEqual(merged.get('single_blocks.0.linear1.weight')!.data, weights.flux.get('single_blocks.0.linear1.weight')!.data);
    // resumes from its checkpoint and stops at the schedule's end
    const again = await trainControl(options);
    assert.equal(again.step, 3);
    await text.release();
  });
});

describe('the shipped variants with a finetune on top', () => {
  it('strength 0 is the variant bit for bit; strength 1 changes the sample', async () => {
    const { FluxMiniBackend } = await import('../../src/model/flux-mini/backend.ts');
    const { writeLora } = await import('../../src/model/lora/files.ts');
    const backend = await FluxMiniBackend.load({ threads: 1 });
    const rng = new Rng(9);
    const path = 'single_blocks.0.linear1';
    const w = backend.weights.flux.get(`${path}.weight`)!;
    const [out, inF] = w.shape as [number, number];
    const lora = writeLora(
      new Map([
        [
          path,
          {
            rank: 4,
            inFeatures: inF,
            outFeatures: out,
            down: rng.fillNormal(new Float32Array(4 * inF), 0.05),
            up: rng.fillNormal(new Float32Array(out * 4), 0.05),
          },
        ],
      ]),
    );
    const image = solid(64, 64, [40, 90, 200]);
    const mask = new Uint8Array(64 * 64).fill(255, 0, 32 * 64);
    const req = {
      prompt: 'a cat on a blue background',
      width: 64,
      height: 64,
      steps: 2,
      guidance: 60,
      seed: 4,
      control: { kind: 'fill' as const, image, mask },
    };
    const plain = await backend.generate(req);
    const zero = await backend.generate({ ...req, lora: { bytes: lora, strength: 0 } });
    const one = await backend.generate({ ...req, lora: { bytes: lora, strength: 1 } });
    assert.deepEqual(zero.image.data, plain.image.data);
    assert.notDeepEqual(one.image.data, plain.image.data);
    // the kept half is the user's image exactly, whatever the model drew
    assert.deepEqual(one.image.data.subarray(32 * 64 * 3), image.data.subarray(32 * 64 * 3));
  });
});
