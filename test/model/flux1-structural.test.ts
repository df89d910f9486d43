// FLUX.1 Canny and Fill through Flux1Backend on tiny random tool checkpoints (BFL layout): the
// variant is read from img_in's width (2·latent: canny/depth; more: fill), the request's image
// becomes the AE-encoded condition (a different control image gives a different sample), Fill
// keeps every pixel the mask keeps, and a route the loaded model cannot serve is refused.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RgbImage } from '../../src/model/backend.ts';
import { Flux1Backend } from '../../src/model/flux1/backend.ts';
import { TINY_FLUX, tinyTransformer, writeTinyFlux1Folder } from './flux1-tiny-folder.ts';

const W = 64;
const H = 48;
function picture(seed: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inside = (x - 20 - seed * 10) ** 2 + (y - 24) ** 2 < 150;
      data.set(inside ? [230, 40, 40] : [20, 60 + seed * 40, 200], (y * W + x) * 3);
    }
  }
  return { width: W, height: H, data };
}
const base = { prompt: 'a red ball', width: W, height: H, steps: 2, guidance: 30, seed: 5 };

describe('FLUX.1 Canny and Fill tool models', () => {
  const roots: string[] = [];
  const backends: Flux1Backend[] = [];
  let canny: Flux1Backend;
  let fill: Flux1Backend;
  before(async () => {
    // the tiny AE downsamples ×4: fill's mask adds 4·4 pixels × 2·2 packing = 64 channels
    for (const [name, inChannels] of [
      ['flux1-canny-dev.safetensors', 128],
      ['flux1-fill-dev.safetensors', 192],
    ] as const) {
      const root = writeTinyFlux1Folder('bfl', tinyTransformer(9, { ...TINY_FLUX, in_channels: inChannels }), name);
      roots.push(root);
      backends.push(await Flux1Backend.load(root, { threads: 1 }));
    }
    [canny, fill] = backends as [Flux1Backend, Flux1Backend];
  });
  after(async () => {
    for (const b of backends) await b.release();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('reads the variants from the shapes', () => {
    assert.equal(canny.name, 'FLUX.1-canny-dev');
    assert.equal(fill.name, 'FLUX.1-fill-dev');
  });

  it('canny: the control image steers the sample', async () => {
    const control = (seed: number) => ({ kind: 'canny' as const, image: picture(seed), preprocessed: false, lowThreshold: 50, highThreshold: 200 });
    const a = await canny.generate({ ...base, control: control(0) });
    const b = await canny.generate({ ...base, control: control(2) });
    assert.deepEqual([a.image.width, a.image.height], [W, H]);
    assert.notDeepEqual(a.image.data, b.image.data);
    const again = await canny.generate({ ...base, control: control(0) });
    assert.deepEqual(again.image.data, a.image.data, 'deterministic for a seed');
  });

  it('fill: the kept pixels come back unchanged, the masked ones are repainted', async () => {
    const image = picture(1);
    const mask = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W / 2; x++) mask[y * W + x] = 255;
    const res = await fill.generate({ ...base, control: { kind: 'fill', image, mask } });
    let changed = 0;
    for (let i = 0; i < W * H; i++) {
      for (let c = 0; c < 3; c++) {
        if (mask[i] === 0) assert.equal(res.image.data[i * 3 + c], image.data[i * 3 + c]);
        else if (res.image.data[i * 3 + c] !== image.data[i * 3 + c]) changed++;
      }
    }
    assert.ok(changed > (W * H * 3) / 4, `the masked half is repainted (${changed} values changed)`);
  });

  it('refuses routes the loaded model cannot serve', async () => {
    await assert.rejects(canny.generate(base), /FLUX.1-canny-dev needs a canny condition/);
    await assert.rejects(
      canny.generate({ ...base, control: { kind: 'fill', image: picture(0), mask: new Uint8Array(W * H) } }),
      /cannot serve fill: serve FLUX.1-fill-dev/,
    );
    await assert.rejects(fill.generate({ ...base, control: { kind: 'depth', image: picture(0), preprocessed: true } }), /cannot serve depth/);
  });
});
