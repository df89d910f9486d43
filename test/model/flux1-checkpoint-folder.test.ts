// FLUXTUNE_MODEL folders: BFL's single files and diffusers' components give the model the same
// tensors under BFL's keys (diffusers' split projections, swapped norm_out halves and renamed VAE
// modules mapped back exactly; BF16 widened), the variant and configs come from the shapes, a
// folder missing a part is refused naming it, and a model too large for the machine is refused
// with the estimate. The text-to-image backend over each layout gives the same image.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAeParams } from '../../src/model/ae/config.ts';
import { Flux1Backend } from '../../src/model/flux1/backend.ts';
import { openFlux1Folder } from '../../src/model/flux1/checkpoint-folder.ts';
import { checkMemory, estimateMemory, ModelTooLarge } from '../../src/model/flux1/memory.ts';
import { TINY_FLUX, tinyAe, tinyTransformer, writeTinyFlux1Folder } from './flux1-tiny-folder.ts';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
const folder = (layout: 'bfl' | 'diffusers') => {
  const root = writeTinyFlux1Folder(layout);
  roots.push(root);
  return root;
};

describe('FLUX.1 checkpoint folders', () => {
  const transformer = tinyTransformer();
  const ae = tinyAe();
  const bflRoot = folder('bfl');
  const diffusersRoot = folder('diffusers');

  for (const [layout, root] of [
    ['bfl', bflRoot],
    ['diffusers', diffusersRoot],
  ] as const) {
    it(`${layout}: detected, configs from the shapes, every tensor equal to the source values`, () => {
      const f = openFlux1Folder(root);
      try {
        assert.equal(f.layout, layout);
        assert.equal(f.variant, 'dev');
        assert.deepEqual(f.params, TINY_FLUX);
        assert.deepEqual(
          f.aeParams,
          parseAeParams({
            resolution: layout === 'bfl' ? 256 : 32,
            in_channels: 3,
            ch: 32,
            out_ch: 3,
            ch_mult: [1, 2, 2],
            num_res_blocks: 1,
            z_channels: 16,
            scale_factor: 0.3611,
            shift_factor: 0.1159,
          }),
        );
        assert.deepEqual([...f.transformer.shapes.keys()].sort(), [...transformer.keys()].sort());
        for (const [k, t] of transformer) assert.deepEqual(f.transformer.read(k), Float32Array.from(t.data), k);
        assert.deepEqual([...f.ae.shapes.keys()].sort(), [...ae.keys()].sort());
        for (const [k, t] of ae) assert.deepEqual(f.ae.read(k), Float32Array.from(t.data), k);
      } finally {
        f.close();
      }
    });
  }

  it('refuses a folder without a transformer, an autoencoder or the text encoders, naming what is missing', () => {
    assert.throws(() => openFlux1Folder(join(bflRoot, 'nope')), /does not exist/);
    assert.throws(() => openFlux1Folder(join(bflRoot, 'tokenizer')), /neither a FLUX.1 transformer file .* nor a diffusers transformer\/ folder/);
    const noAe = folder('bfl');
    rmSync(join(noAe, 'ae.safetensors'));
    assert.throws(() => openFlux1Folder(noAe), /no autoencoder \(ae.safetensors, or a diffusers vae\/ folder\)/);
    const noT5 = folder('diffusers');
    rmSync(join(noT5, 'text_encoder_2'), { recursive: true });
    assert.throws(() => openFlux1Folder(noT5), /no text_encoder_2\//);
  });

  it('estimates the memory and refuses a machine that cannot hold the model', () => {
    const real = estimateMemory({
      params: { ...TINY_FLUX, hidden_size: 3072, num_heads: 24, axes_dim: [16, 56, 56] },
      transformer: [[11_901_408_320]],
      ae: [[83_819_683]],
      text: [[4_762_310_656 + 123_060_480]],
      txtTokens: 512,
      availableBytes: 64 * 2 ** 30,
    });
    // 4 bytes × (2 × 11.9 B + 0.08 B + 4.9 B) ≈ 115 GB + attention at 1440² (8,612 tokens) ≈ 23 GB
    assert.ok(real.peakBytes > 130e9 && real.peakBytes < 145e9, `${real.peakBytes}`);
    assert.throws(
      () => checkMemory(real, 'FLUX.1-dev'),
      (err: Error) => {
        assert.ok(err instanceof ModelTooLarge);
        assert.match(err.message, /FLUX.1-dev needs about 1\d\d\.\d GiB of memory \(transformer 11\.90 B parameters .* but 64\.0 GiB is available/);
        return true;
      },
    );
    checkMemory({ ...real, availableBytes: 256 * 2 ** 30 }, 'FLUX.1-dev');
  });

  it('FLUXTUNE_MEMORY_GB too small: loading fails before any weight is read', async () => {
    process.env.FLUXTUNE_MEMORY_GB = '0.001';
    try {
      await assert.rejects(Flux1Backend.load(bflRoot), /needs about .* but 0\.0 GiB is available \(FLUXTUNE_MEMORY_GB\)/);
    } finally {
      delete process.env.FLUXTUNE_MEMORY_GB;
    }
  });

  it('text-to-image: both layouts give the same image, seeds differ', async () => {
    const images: Uint8Array[] = [];
    for (const root of [bflRoot, diffusersRoot]) {
      const backend = await Flux1Backend.load(root, { threads: 1 });
      try {
        assert.equal(backend.name, 'FLUX.1-dev');
        const req = { prompt: 'a photo of a cat', width: 64, height: 48, steps: 3, guidance: 3.5, seed: 7 };
        const res = await backend.generate(req);
        assert.equal(res.nativeWidth, 64);
        assert.equal(res.nativeHeight, 48);
        assert.equal(res.image.data.length, 64 * 48 * 3);
        images.push(res.image.data);
        const other = await backend.generate({ ...req, seed: 8 });
        assert.notDeepEqual(other.image.data, res.image.data);
      } finally {
        await backend.release();
      }
    }
    assert.deepEqual(images[1], images[0]);
    const distinct = new Set(images[0]).size;
    assert.ok(distinct > 20, `the image is not flat (${distinct} distinct byte values)`);
  });
});
