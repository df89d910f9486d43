// Channel-concatenated conditioning against BFL's reference (../shared/vectors/flux-pipeline-tiny,
// cases `control` and `fill`): the condition joins the noisy latents on the channel axis before
// every model call, noise and velocity keep the latent width (out_channels), and fill's mask is
// packed per latent pixel exactly as `prepare_fill` does. The autoencoder half of `img_cond`
// (encode(control_image), encode(image·(1 − mask))) needs the AE, which is issue 12's; the
// reference's own `img_cond` is fed here instead.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { packFillMask } from '../../src/model/conditioning/condition.ts';
import { pack, unpack } from '../../src/model/conditioning/pack.ts';
import { parseFluxParams } from '../../src/model/flux/config.ts';
import { FluxRunner } from '../../src/model/flux/runner.ts';
import { concatChannels, sample } from '../../src/model/sampling/sampler.ts';
import { getSchedule } from '../../src/model/sampling/schedule.ts';
import { readTensors, type Tensors } from '../../src/model/tensors.ts';
import { relErr, TOLERANCE } from './flux-tiny-fixture.ts';

const DIR = new URL('../../../shared/vectors/flux-pipeline-tiny/', import.meta.url);
const config = JSON.parse(readFileSync(new URL('config.json', DIR), 'utf8')) as { configs: Record<string, unknown>; meta: { fill_mask_factor: number } };
const tensors = (name: string): Tensors => readTensors(readFileSync(new URL(`${name}.safetensors`, DIR)), true).tensors;
const get = (t: Tensors, k: string) => {
  const v = t.get(k);
  if (!v) throw new Error(`vector ${k} missing`);
  return v.data;
};

for (const name of ['control', 'fill'] as const) {
  describe(`case_${name}`, () => {
    const params = parseFluxParams(config.configs[name]);
    const c = tensors(`case_${name}`);
    const runners: FluxRunner[] = [];
    after(async () => {
      for (const r of runners) await r.release();
    });
    const [, C, H, W] = c.get('noise')!.shape as number[];
    const noise = pack(get(c, 'noise'), C!, H!, W!, 2);
    const imgCond = get(c, 'img_cond');
    const tokens = (H! / 2) * (W! / 2);

    it('keeps latent and input channels apart', () => {
      assert.equal(noise.length, tokens * params.out_channels);
      assert.equal(imgCond.length, tokens * (params.in_channels - params.out_channels));
    });

    for (const schedule of ['schnell', 'dev'] as const) {
      it(`${schedule}: schedule, first prediction, denoised and unpacked latents`, async () => {
        const runner = await FluxRunner.create({
          params,
          weights: tensors(`flow_${name}`),
          shape: { batch: 1, imgTokens: tokens, txtTokens: 5 },
          dtype: 'float64',
        });
        runners.push(runner);
        const timesteps = getSchedule(4, tokens, { shift: schedule === 'dev' });
        assert.ok(relErr(timesteps, get(c, `${schedule}.timesteps`)) < 1e-6, 'schedule');
        const base = { imgIds: get(c, 'img_ids'), txt: get(c, 'txt'), txtIds: get(c, 'txt_ids'), y: get(c, 'vec'), guidance: [3.5] };
        const first = await runner.forward({
          ...base,
          img: concatChannels(noise, imgCond, tokens, params.out_channels, imgCond.length / tokens),
          timesteps: [timesteps[0]!],
        });
        const e1 = relErr(first, get(c, `${schedule}.first_pred`));
        assert.ok(e1 < TOLERANCE, `first_pred: relative error ${e1}`);
        const denoised = await sample({
          runner,
          cond: { txt: base.txt, y: base.y },
          imgIds: base.imgIds,
          noise,
          imgCond,
          steps: 4,
          guidance: 3.5,
          schedule: { shift: schedule === 'dev' },
        });
        const e2 = relErr(denoised, get(c, `${schedule}.denoised`));
        assert.ok(e2 < TOLERANCE, `denoised: relative error ${e2}`);
        const e3 = relErr(unpack(denoised, C!, H!, W!, 2), get(c, `${schedule}.latents`));
        assert.ok(e3 < TOLERANCE, `latents: relative error ${e3}`);
      });
    }

    if (name === 'fill') {
      it("packs the mask per latent pixel as prepare_fill does (img_cond's second half)", () => {
        const [, , mh, mw] = c.get('mask')!.shape as number[];
        const f = config.meta.fill_mask_factor;
        const packed = packFillMask(get(c, 'mask'), mh!, mw!, f, 2);
        const per = packed.length / tokens;
        const latent = imgCond.length / tokens - per;
        const ref = new Float64Array(packed.length);
        for (let n = 0; n < tokens; n++) for (let i = 0; i < per; i++) ref[n * per + i] = imgCond[n * (latent + per) + latent + i]!;
        assert.equal(relErr(packed, ref), 0);
      });
    }

    it('refuses a call without the condition, or noise of the input width', async () => {
      const runner = await FluxRunner.create({ params, weights: tensors(`flow_${name}`), shape: { batch: 1, imgTokens: tokens, txtTokens: 5 } });
      runners.push(runner);
      const base = { runner, cond: { txt: get(c, 'txt'), y: get(c, 'vec') }, imgIds: get(c, 'img_ids'), steps: 1, guidance: 3.5 };
      await assert.rejects(sample({ ...base, noise }), /conditioning channels/);
      await assert.rejects(sample({ ...base, noise: new Float32Array(tokens * params.in_channels), imgCond }), /latent channels/);
    });
  });
}

describe('pack / unpack', () => {
  it('are inverse and lay features out channel-major', () => {
    const x = Float32Array.from({ length: 2 * 4 * 6 }, (_, i) => i);
    const t = pack(x, 2, 4, 6, 2);
    assert.deepEqual(Array.from(unpack(t, 2, 4, 6, 2)), Array.from(x));
    // token 0 = channel 0's top-left 2×2 block, then channel 1's
    assert.deepEqual(Array.from(t.subarray(0, 8)), [0, 1, 6, 7, 24, 25, 30, 31]);
  });
});
