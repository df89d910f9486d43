// The ideal denoiser is the posterior mean, so it must: return the only member of a one-member
// family, return the family mean from pure noise, identify the source member at low noise, and
// beat both of those fixed guesses on average (the property that makes it the reference).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { centredFamily, denoisingErrors, IdealDenoiser } from '../../src/model/eval/ideal-denoiser.ts';
import { listConcepts, loadSprites } from '../../src/model/pretrain/scenes.ts';

function randomFamily(rng: Rng, members: number, size: number): Float32Array[] {
  return Array.from({ length: members }, () => Float32Array.from({ length: size }, () => rng.normal() * 0.5));
}

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let e = 0;
  for (let i = 0; i < a.length; i++) e += (a[i]! - b[i]!) ** 2;
  return e / a.length;
};

describe('ideal denoiser', () => {
  it('returns the member of a one-member family whatever x_t is', () => {
    const rng = new Rng(1);
    const [m] = randomFamily(rng, 1, 32);
    const xt = Float32Array.from({ length: 32 }, () => rng.normal());
    assert.ok(mse(new IdealDenoiser([m!]).denoise(xt, 0.7), m!) < 1e-12);
  });

  it('returns the family mean from pure noise and the source member at low noise', () => {
    const rng = new Rng(2);
    const fam = randomFamily(rng, 5, 64);
    const d = new IdealDenoiser(fam);
    const mean = new Float32Array(64);
    for (const m of fam) for (let i = 0; i < 64; i++) mean[i]! += m[i]! / fam.length;
    const noise = Float32Array.from({ length: 64 }, () => rng.normal());
    assert.ok(mse(d.denoise(noise, 1), mean) < 1e-10);
    const t = 0.05;
    const xt = fam[3]!.map((v, i) => (1 - t) * v + t * noise[i]!);
    assert.ok(d.posterior(xt, t)[3]! > 0.999);
    assert.ok(mse(d.denoise(xt, t), fam[3]!) < 1e-8);
    assert.throws(() => d.posterior(xt, 0), /t must be/);
  });

  it('beats the family mean and the nearest member on average (it is the posterior mean)', () => {
    const rng = new Rng(3);
    const fam = randomFamily(rng, 6, 16);
    const d = new IdealDenoiser(fam);
    const t = 0.6;
    let ideal = 0;
    let nearest = 0;
    let meanGuess = 0;
    const mean = new Float32Array(16);
    for (const m of fam) for (let i = 0; i < 16; i++) mean[i]! += m[i]! / fam.length;
    for (let r = 0; r < 400; r++) {
      const x0 = fam[rng.int(fam.length)]!;
      const xt = x0.map((v) => (1 - t) * v + t * rng.normal());
      ideal += mse(d.denoise(xt, t), x0);
      const w = d.posterior(xt, t);
      nearest += mse(fam[w.indexOf(Math.max(...w))]!, x0);
      meanGuess += mse(mean, x0);
    }
    assert.ok(ideal < nearest && ideal < meanGuess, `ideal ${ideal} nearest ${nearest} mean ${meanGuess}`);
  });

  it('measures a perfect predictor as equal to itself and a blind one as worse, on real centred scenes', async () => {
    const sprites = await loadSprites(listConcepts().filter((c) => c.name === 'cat'));
    const fam = centredFamily(sprites, 'cat', 'blue', { size: 32, patch: 8, count: 9 });
    assert.equal(fam.length, 9);
    assert.equal(fam[0]!.length, 16 * 192);
    const ideal = new IdealDenoiser(fam);
    const perfect = await denoisingErrors(fam, async (xt, t) => ideal.denoise(xt, t), [0.5, 0.9], new Rng(4), 2);
    for (const e of perfect) assert.ok(Math.abs(e.model - e.ideal) < 1e-9);
    const blind = await denoisingErrors(fam, async (xt) => new Float32Array(xt.length), [0.5], new Rng(4), 2);
    assert.ok(blind[0]!.model > 10 * blind[0]!.ideal);
  });
});
