// FLUX.1's pipeline end to end against BFL's reference (../shared/vectors/flux-pipeline-tiny):
// txt2img on the schnell (plain) and dev (shifted) schedules — schedule, first prediction,
// denoised tokens, unpacked latents and the decoded image — and Canny/Fill with their condition
// encoded by our autoencoder (prepare_control / prepare_fill), all in float32 to 1e-5 relative.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseAeParams } from '../../src/model/ae/config.ts';
import { AeRunner } from '../../src/model/ae/runner.ts';
import { pack } from '../../src/model/conditioning/pack.ts';
import { parseFluxParams } from '../../src/model/flux/config.ts';
import { FluxRunner } from '../../src/model/flux/runner.ts';
import { latentGrid, latentImageIds } from '../../src/model/flux1/latents.ts';
import { Flux1Pipeline } from '../../src/model/flux1/pipeline.ts';
import { concatChannels } from '../../src/model/sampling/sampler.ts';
import { readTensors, type Tensors } from '../../src/model/tensors.ts';
import { relErr } from './flux-tiny-fixture.ts';

const DIR = new URL('../../../shared/vectors/flux-pipeline-tiny/', import.meta.url);
const TOLERANCE = 1e-5;
const config = JSON.parse(readFileSync(new URL('config.json', DIR), 'utf8')) as { configs: Record<string, unknown> };
const tensors = (name: string): Tensors => readTensors(readFileSync(new URL(`${name}.safetensors`, DIR)), true).tensors;
const get = (t: Tensors, k: string) => {
  const v = t.get(k);
  if (!v) throw new Error(`vector ${k} missing`);
  return v.data;
};
const aeParams = parseAeParams(config.configs.ae);
const aeWeights = tensors('ae');

let ae: AeRunner;
before(async () => {
  ae = await AeRunner.create({ params: aeParams, weights: aeWeights, shape: { batch: 1, height: 32, width: 32 } });
});
after(() => ae.release());

describe('latent shapes (get_noise, prepare)', () => {
  it('rounds to an even latent size at 1/8 and packs 2×2', () => {
    assert.deepEqual(latentGrid(1024, 768), { channels: 16, height: 128, width: 96, rows: 64, cols: 48 });
    // get_noise: 2·ceil(h/16): 1000 px → 126 latent pixels, 63 token rows
    assert.deepEqual(latentGrid(1000, 1000), { channels: 16, height: 126, width: 126, rows: 63, cols: 63 });
  });
  it('gives (0, row, col) ids as the reference img_ids', () => {
    assert.equal(relErr(latentImageIds({ rows: 4, cols: 4 }), get(tensors('case_txt2img'), 'img_ids')), 0);
  });
});

for (const name of ['txt2img', 'control', 'fill'] as const) {
  describe(`case_${name} through Flux1Pipeline (float32)`, () => {
    const params = parseFluxParams(config.configs[name]);
    const c = tensors(`case_${name}`);
    // The tiny AE downsamples ×4, so its latent grid is 32 px / 4 = 8.
    const grid = latentGrid(32, 32, 16, 4);
    const tokens = grid.rows * grid.cols;
    let flux: FluxRunner;
    let pipeline: Flux1Pipeline;
    let imgCond: Float32Array | undefined;
    before(async () => {
      flux = await FluxRunner.create({ params, weights: tensors(`flow_${name}`), shape: { batch: 1, imgTokens: tokens, txtTokens: 5 } });
      pipeline = new Flux1Pipeline(flux, ae, grid);
      if (name === 'control') imgCond = await pipeline.controlCondition(get(c, 'control_image') as Float32Array, 32, 32);
      if (name === 'fill') imgCond = await pipeline.fillCondition(Float32Array.from(get(c, 'fill_image')), get(c, 'mask'), 32, 32);
    });
    after(() => flux.release());

    if (name !== 'txt2img') {
      it('our autoencoder encodes the condition as the reference img_cond', (t) => {
        const e = relErr(imgCond!, get(c, 'img_cond'));
        t.diagnostic(`img_cond: ${e.toExponential(2)}`);
        assert.ok(e < TOLERANCE, `img_cond: relative error ${e}`);
      });
    }

    for (const schedule of ['schnell', 'dev'] as const) {
      it(`${schedule}: schedule, first prediction, denoised, latents and decoded image`, async (t) => {
        const base = { txt: get(c, 'txt'), y: get(c, 'vec') };
        const first = await flux.forward({
          ...base,
          img: imgCond ? concatChannels(pack(get(c, 'noise'), 16, 8, 8, 2), imgCond, tokens, 64, imgCond.length / tokens) : pack(get(c, 'noise'), 16, 8, 8, 2),
          imgIds: latentImageIds(grid),
          timesteps: [get(c, `${schedule}.timesteps`)[0]!],
          guidance: [3.5],
        });
        const out = await pipeline.run({ ...base, noise: get(c, 'noise'), steps: 4, guidance: 3.5, shift: schedule === 'dev', imgCond });
        const errors = {
          timesteps: relErr(out.timesteps, get(c, `${schedule}.timesteps`)),
          first_pred: relErr(first, get(c, `${schedule}.first_pred`)),
          denoised: relErr(out.denoised, get(c, `${schedule}.denoised`)),
          latents: relErr(out.latents, get(c, `${schedule}.latents`)),
          image: relErr(out.image, get(c, `${schedule}.image`)),
        };
        t.diagnostic(
          Object.entries(errors)
            .map(([k, e]) => `${k} ${e.toExponential(2)}`)
            .join(', '),
        );
        for (const [k, e] of Object.entries(errors)) assert.ok(e < TOLERANCE, `${k}: relative error ${e}`);
      });
    }
  });
}
