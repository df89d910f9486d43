// The CLIP text model against ../shared/vectors/text-encoders-tiny case_clip (reference in
// float64 from float32-stored weights, HF key names): last_hidden_state (after final_layer_norm)
// and pooler_output from a float32 graph to 1e-5 relative, and HF's two pooling rules.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildClipGraph } from '../../../src/model/text-encoders/build.ts';
import { type ClipForward, ClipTextRunner } from '../../../src/model/text-encoders/clip-runner.ts';
import { tensorSource, unusedTextWeights } from '../../../src/model/text-encoders/weights.ts';
import { relErr } from '../flux-tiny-fixture.ts';
import { clipConfig, idRowsOf, loadTensors, vector } from './vectors.ts';

const weights = loadTensors('clip.safetensors');
const cases = loadTensors('case_clip.safetensors', true);
const rows = idRowsOf(cases);
const TOLERANCE = 1e-5;
const d = clipConfig.hidden_size;

describe('CLIP text model vs text-encoders-tiny case_clip', () => {
  let runner: ClipTextRunner;
  let out: ClipForward;
  before(async () => {
    runner = await ClipTextRunner.create({ config: clipConfig, weights: tensorSource(weights), threads: 1 });
    out = await runner.forward(rows);
  });
  after(() => runner.release());

  it('declares exactly the checkpoint keys and shapes', () => {
    const { store } = buildClipGraph(clipConfig, { batch: 1, length: 77 });
    assert.deepEqual(unusedTextWeights(store.params.keys(), tensorSource(weights)), []);
    assert.equal(store.params.size, weights.size);
    for (const [k, v] of store.params) assert.deepEqual([...v.shape], weights.get(k)!.shape, k);
  });

  it('last_hidden_state matches in float32', (t) => {
    const err = relErr(out.lastHiddenState, vector(cases, 'last_hidden_state'));
    t.diagnostic(`last_hidden_state: max relative error ${err.toExponential(2)}`);
    assert.ok(err < TOLERANCE, `relative error ${err}`);
  });

  it('pooler_output matches in float32, and is last_hidden_state at the first EOS exactly', (t) => {
    const err = relErr(out.pooledOutput, vector(cases, 'pooler_output'));
    t.diagnostic(`pooler_output: max relative error ${err.toExponential(2)}`);
    assert.ok(err < TOLERANCE, `relative error ${err}`);
    rows.forEach((row, r) => {
      const eos = row.indexOf(clipConfig.eos_token_id);
      assert.ok(eos > 0);
      assert.deepEqual(out.pooledOutput.subarray(r * d, (r + 1) * d), out.lastHiddenState.subarray((r * 77 + eos) * d, (r * 77 + eos + 1) * d));
    });
  });

  // As for T5, our float64 graph agrees with the reference to ~1e-7, not to float64 rounding,
  // uniformly over positions (see README.md): the bound is 1e-6.
  it('matches in float64 too', async (t) => {
    const r64 = await ClipTextRunner.create({ config: clipConfig, weights: tensorSource(weights), dtype: 'float64', threads: 1 });
    try {
      const o = await r64.forward(rows);
      const err = Math.max(relErr(o.lastHiddenState, vector(cases, 'last_hidden_state')), relErr(o.pooledOutput, vector(cases, 'pooler_output')));
      t.diagnostic(`float64: max relative error ${err.toExponential(2)}`);
      assert.ok(err < 1e-6, `relative error ${err}`);
    } finally {
      await r64.release();
    }
  });

  it('pools as HF does: eos_token_id 2 at the argmax of the ids (the first of equals), otherwise at the first EOS (position 0 if none)', async () => {
    const at = (o: ClipForward, p: number) => o.lastHiddenState.subarray(p * d, (p + 1) * d);
    const pad = (ids: number[]) => [...ids, ...new Array(77 - ids.length).fill(7)];
    const twoEos = pad([97, 5, 98, 3, 98]);
    const noEos = pad([5, 96, 3, 96]);
    const first = await runner.forward([twoEos, noEos]);
    assert.deepEqual(first.pooledOutput.subarray(0, d), at(first, 2), 'eos 98: the first position holding 98');
    assert.deepEqual(first.pooledOutput.subarray(d), at(first, 77), 'no EOS in the row: position 0, as argmax of all zeros');
    const legacy = await ClipTextRunner.create({ config: { ...clipConfig, eos_token_id: 2 }, weights: tensorSource(weights), threads: 1 });
    try {
      const arg = await legacy.forward([noEos]);
      assert.deepEqual(arg.pooledOutput, at(arg, 1), 'eos_token_id 2: argmax of the ids, the first 96');
    } finally {
      await legacy.release();
    }
  });
});
