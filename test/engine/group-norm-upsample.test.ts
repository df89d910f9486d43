// GroupNorm and nearest ×2 upsampling (the autoencoder's other two ops): forward against plain
// loops written from PyTorch's definitions, gradients against finite differences in float64
// (both are compositions of ops that ONNX Runtime has in float64).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';
import { gradCheck } from './gradcheck.ts';

const X = (shape: number[], name: string, lo?: number, hi?: number) => ({ name, shape, lo, hi });

async function run(build: (g: Graph) => F.Operand, feeds: Record<string, Float64Array>): Promise<Float64Array> {
  const g = new Graph();
  const y = build(g) as ReturnType<typeof F.identity>;
  const s = await Session.create({ outputs: { y } });
  const out = (await s.run(feeds)).y as Float64Array;
  await s.release();
  return out;
}

/** torch.nn.functional.group_norm: biased variance over each (sample, group). */
function referenceGroupNorm(x: Float64Array, [n, c, h, w]: number[], groups: number, weight: Float64Array, bias: Float64Array, eps: number) {
  const out = new Float64Array(x.length);
  const m = (c! / groups) * h! * w!;
  for (let b = 0; b < n!; b++)
    for (let gi = 0; gi < groups; gi++) {
      const base = (b * groups + gi) * m;
      let mean = 0;
      for (let i = 0; i < m; i++) mean += x[base + i]!;
      mean /= m;
      let v = 0;
      for (let i = 0; i < m; i++) v += (x[base + i]! - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / m + eps);
      for (let i = 0; i < m; i++) {
        const ch = gi * (c! / groups) + Math.floor(i / (h! * w!));
        out[base + i] = (x[base + i]! - mean) * rstd * weight[ch]! + bias[ch]!;
      }
    }
  return out;
}

describe('groupNorm', () => {
  it('matches PyTorch group_norm (float64)', async () => {
    const rng = new Rng(3);
    const shape = [2, 6, 3, 4];
    const x = rng.fillNormal(new Float64Array(2 * 6 * 3 * 4));
    for (let i = 0; i < x.length; i++) x[i] = x[i]! * 3 + 1;
    const weight = rng.fillNormal(new Float64Array(6));
    const bias = rng.fillNormal(new Float64Array(6));
    const got = await run((g) => F.groupNorm(g.input('x', shape, 'float64'), 3, g.input('w', [6], 'float64'), g.input('b', [6], 'float64'), 1e-6), {
      x,
      w: weight,
      b: bias,
    });
    const ref = referenceGroupNorm(x, shape, 3, weight, bias, 1e-6);
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i]! - ref[i]!));
    assert.ok(err < 1e-12, `max abs error ${err}`);
  });

  it('refuses channels that do not split into the groups', () => {
    const g = new Graph();
    assert.throws(() => F.groupNorm(g.input('x', [1, 6, 2, 2]), 4), /6 channels do not split into 4 groups/);
  });

  it('VJP matches finite differences (float64)', () =>
    gradCheck({
      inputs: [X([2, 6, 3, 2], 'x'), X([6], 'w'), X([6], 'b')],
      build: ([x, w, b]) => F.groupNorm(x!, 3, w!, b!, 1e-6),
    }));

  it('VJP with one channel per group and no affine (float64)', () =>
    gradCheck({ inputs: [X([1, 4, 2, 3], 'x')], build: ([x]) => F.groupNorm(x!, 4, undefined, undefined, 1e-6) }));

  it('VJP in float32', () =>
    gradCheck({ inputs: [X([1, 4, 4, 4], 'x'), X([4], 'w'), X([4], 'b')], build: ([x, w, b]) => F.groupNorm(x!, 2, w!, b!, 1e-6) }, 'float32'));
});

describe('upsampleNearest', () => {
  it('repeats every pixel into a 2×2 block, as interpolate(mode="nearest") does', async () => {
    const x = Float64Array.from({ length: 2 * 3 * 2 }, (_, i) => i);
    const got = await run((g) => F.upsampleNearest(g.input('x', [1, 2, 3, 2], 'float64')), { x });
    for (let c = 0; c < 2; c++)
      for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) assert.equal(got[(c * 6 + i) * 4 + j], x[(c * 3 + Math.floor(i / 2)) * 2 + Math.floor(j / 2)]);
  });

  it('VJP matches finite differences (float64)', () => gradCheck({ inputs: [X([2, 3, 3, 2], 'x')], build: ([x]) => F.upsampleNearest(x!) }));

  it('VJP through upsample then GroupNorm (the decoder pattern, float64)', () =>
    gradCheck({
      inputs: [X([1, 4, 2, 3], 'x'), X([4], 'w')],
      build: ([x, w]) => F.groupNorm(F.upsampleNearest(x!), 2, w!, undefined, 1e-6),
    }));
});
