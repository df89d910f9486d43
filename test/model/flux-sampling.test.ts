// Sampler pieces against the reference: every schedule in schedules.json and the 4-step Euler
// denoise (distilled guidance 4.0, no CFG) in float64; plus seeding, CFG and img2img behaviour.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FluxRunner } from '../../src/model/flux/runner.ts';
import { denoise, guide, rescaleGuided } from '../../src/model/sampling/denoise.ts';
import { img2imgStart } from '../../src/model/sampling/img2img.ts';
import { seededNoise } from '../../src/model/sampling/noise.ts';
import { sample } from '../../src/model/sampling/sampler.ts';
import { getSchedule } from '../../src/model/sampling/schedule.ts';
import { data, load, params, relErr, schedules, TOLERANCE } from './flux-tiny-fixture.ts';

describe('get_schedule', () => {
  it('matches every schedule in schedules.json', () => {
    const cases = Object.entries(schedules());
    assert.ok(cases.length >= 5);
    for (const [name, ref] of cases) {
      const m = /^steps(\d+)_seq(\d+)(_noshift)?$/.exec(name);
      assert.ok(m, `unexpected schedule name ${name}`);
      const got = getSchedule(Number(m[1]), Number(m[2]), { shift: !m[3] });
      const err = relErr(got, ref);
      assert.ok(err < TOLERANCE, `${name}: relative error ${err}`);
    }
  });

  it('gives the documented dev schedule at 4096 tokens', () => {
    const err = relErr(getSchedule(4, 4096), [1, 0.904531, 0.759511, 0.512844, 0]);
    assert.ok(err < 1e-6, `relative error ${err}`);
  });
});

describe('Euler denoise (float64)', () => {
  let runner: FluxRunner;
  const c = () => load('case_denoise');
  before(async () => {
    runner = await FluxRunner.create({ params, weights: load('weights'), shape: { batch: 1, imgTokens: 16, txtTokens: 5 }, dtype: 'float64' });
  });
  after(() => runner.release());

  it('matches case_denoise: 4 steps over steps4_seq16, guidance 4.0', async () => {
    const result = await sample({
      runner,
      cond: { txt: data(c(), 'txt'), y: data(c(), 'y') },
      imgIds: data(c(), 'img_ids'),
      noise: data(c(), 'noise'),
      steps: 4,
      guidance: 4.0,
    });
    const err = relErr(result, data(c(), 'result'));
    assert.ok(err < TOLERANCE, `relative error ${err}`);
  });

  it('img2img at strength 1 is text-to-image; at strength 0 it returns the init latents', async () => {
    const base = {
      runner,
      cond: { txt: data(c(), 'txt'), y: data(c(), 'y') },
      imgIds: data(c(), 'img_ids'),
      noise: data(c(), 'noise'),
      steps: 4,
      guidance: 4.0,
    };
    const init = seededNoise(3, 16 * 16);
    assert.deepEqual(await sample({ ...base, init: { latents: init, strength: 1 } }), await sample(base));
    assert.deepEqual(Array.from(await sample({ ...base, init: { latents: init, strength: 0 } })), Array.from(init));
  });
});

describe('sampler pieces', () => {
  it('seeded noise is reproducible and standard normal', () => {
    const a = seededNoise(42, 20000);
    assert.deepEqual(a, seededNoise(42, 20000));
    assert.notDeepEqual(a.subarray(0, 8), seededNoise(43, 20000).subarray(0, 8));
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const variance = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  });

  it('img2img keeps the schedule tail from int((1 − s)·N) and mixes at that time', () => {
    const ts = getSchedule(10, 256);
    const noise = Float32Array.of(1, 1);
    const init = Float32Array.of(0, 2);
    const start = img2imgStart(ts, 0.75, noise, init);
    assert.deepEqual(start.timesteps, ts.slice(2));
    // As in Python, (1 − 0.8)·10 = 1.999…: strength 0.8 skips one step, not two.
    assert.deepEqual(img2imgStart(ts, 0.8, noise, init).timesteps, ts.slice(1));
    const t = ts[2]!;
    assert.deepEqual(Array.from(start.x), [Math.fround(t), Math.fround(t + (1 - t) * 2)]);
  });

  it('Euler integrates a constant velocity exactly and CFG extrapolates from uncond', async () => {
    const out = await denoise(async (x) => new Float64Array(x.length).fill(2), Float64Array.of(1, -1), [1, 0.7, 0.2, 0]);
    assert.deepEqual(Array.from(out), [-1, -3]);
    assert.deepEqual(Array.from(guide([3, 1], [1, 1], 2.5)), [6, 1]);
  });

  it('guidance rescale matches the guided std to the conditional one per sample, mixed by φ', () => {
    const cond = [1, -1, 2, -2];
    const guided = Float64Array.of(4, -4, 2, -2); // sample 0 has 4× the cond std, sample 1 the same
    assert.deepEqual(Array.from(rescaleGuided(Float64Array.from(guided), cond, 2, 1)), [1, -1, 2, -2]);
    // φ = 0.5: factor 0.5·(1/4) + 0.5 = 0.625 for sample 0, 1 for sample 1.
    assert.deepEqual(Array.from(rescaleGuided(Float64Array.from(guided), cond, 2, 0.5)), [2.5, -2.5, 2, -2]);
    assert.deepEqual(Array.from(rescaleGuided(Float64Array.from(guided), cond, 2, 0)), Array.from(guided));
  });

  it('CFG runs cond and uncond as one batch; scale 1 equals the conditional model alone', async () => {
    const cond = { txt: data(load('case_denoise'), 'txt'), y: data(load('case_denoise'), 'y') };
    const uncond = { txt: new Float64Array(cond.txt.length), y: new Float64Array(cond.y.length) };
    const imgIds = data(load('case_denoise'), 'img_ids');
    const noise = data(load('case_denoise'), 'noise');
    const weights = load('weights');
    const one = await FluxRunner.create({ params, weights, shape: { batch: 1, imgTokens: 16, txtTokens: 5 }, dtype: 'float64' });
    const two = await FluxRunner.create({ params, weights, shape: { batch: 2, imgTokens: 16, txtTokens: 5 }, dtype: 'float64' });
    const plain = await sample({ runner: one, cond, imgIds, noise, steps: 2, guidance: 4 });
    const cfg1 = await sample({ runner: two, cond, imgIds, noise, steps: 2, guidance: 4, cfg: { scale: 1, uncond } });
    assert.ok(relErr(cfg1, plain) < 1e-12);
    const cfg3 = await sample({ runner: two, cond, imgIds, noise, steps: 2, guidance: 4, cfg: { scale: 3, uncond } });
    assert.ok(relErr(cfg3, plain) > 1e-3, 'a CFG scale of 3 should change the sample');
    await Promise.all([one.release(), two.release()]);
  });
});
