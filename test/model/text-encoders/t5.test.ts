// The T5 v1.1 encoder against ../shared/vectors/text-encoders-tiny case_t5 (reference in float64
// from float32-stored weights, HF key names): relative position buckets exactly, and
// last_hidden_state from a float32 graph to 1e-5 relative (max|a − b| / max|b|), as one session
// and as a chain of one-block stages (how T5-XXL runs), plus the float64 graph.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildT5Graph } from '../../../src/model/text-encoders/build.ts';
import { T5_V1_1_XXL } from '../../../src/model/text-encoders/config.ts';
import { relativeBuckets } from '../../../src/model/text-encoders/relative-position.ts';
import { planT5Stages } from '../../../src/model/text-encoders/stage-plan.ts';
import { T5EncoderRunner } from '../../../src/model/text-encoders/t5-runner.ts';
import { tensorSource, unusedTextWeights } from '../../../src/model/text-encoders/weights.ts';
import { relErr } from '../flux-tiny-fixture.ts';
import { idRowsOf, loadTensors, t5Config, vector } from './vectors.ts';

const weights = loadTensors('t5.safetensors');
const cases = loadTensors('case_t5.safetensors', true);
const rows = idRowsOf(cases);
const length = rows[0]!.length;
const TOLERANCE = 1e-5;

describe('T5 encoder vs text-encoders-tiny case_t5', () => {
  it('relative position buckets equal the reference at every (query, key) of 150 tokens', () => {
    const ours = relativeBuckets(length, length, true, t5Config.relative_attention_num_buckets, t5Config.relative_attention_max_distance);
    const ref = vector(cases, 'relative_buckets');
    assert.equal(ours.length, ref.length);
    const wrong = [...ours.keys()].filter((i) => Number(ours[i]) !== ref[i]);
    assert.deepEqual(wrong, [], `first differing (q, k): ${wrong.slice(0, 3).map((i) => `(${Math.floor(i / length)}, ${i % length})`)}`);
    // Both halves and the clipped last bucket are exercised at this length.
    assert.equal(Math.max(...ref), 31);
    assert.equal(Number(ours[length - 1]), 31);
    assert.equal(Number(ours[(length - 1) * length]), 15);
  });

  it('declares exactly the checkpoint keys and shapes (the tied embedding under either name)', () => {
    const { store } = buildT5Graph(t5Config, { batch: 1, length });
    assert.deepEqual(unusedTextWeights(store.params.keys(), tensorSource(weights)), []);
    for (const [k, v] of store.params) assert.deepEqual([...v.shape], weights.get(k)!.shape, k);
    assert.equal(store.params.size, weights.size - 1, 'all but encoder.embed_tokens.weight, the tie of shared.weight');
  });

  for (const maxStageBytes of [undefined, 1]) {
    const label = maxStageBytes ? 'one block per stage' : 'one session';
    it(`last_hidden_state matches in float32 (${label})`, async (t) => {
      const runner = await T5EncoderRunner.create({ config: t5Config, weights: tensorSource(weights), length, maxStageBytes, threads: 1 });
      try {
        assert.equal(runner.stages.length, maxStageBytes ? t5Config.num_layers : 1);
        const err = relErr(await runner.forward(rows), vector(cases, 'last_hidden_state'));
        t.diagnostic(`last_hidden_state: max relative error ${err.toExponential(2)}`);
        assert.ok(err < TOLERANCE, `relative error ${err}`);
      } finally {
        await runner.release();
      }
    });
  }

  // Our float64 graph differs from the reference by ~5e-8 at every position (not only at some
  // buckets or rows), as if one step of the reference were rounded to float32: see README.md.
  it('last_hidden_state matches in float64 to 1e-6', async (t) => {
    const runner = await T5EncoderRunner.create({ config: t5Config, weights: tensorSource(weights), length, dtype: 'float64', threads: 1 });
    try {
      const err = relErr(await runner.forward(rows), vector(cases, 'last_hidden_state'));
      t.diagnostic(`float64: max relative error ${err.toExponential(2)}`);
      assert.ok(err < 1e-6, `relative error ${err}`);
    } finally {
      await runner.release();
    }
  });

  it('loads from a checkpoint that has only encoder.embed_tokens.weight (the other name of the tie)', async () => {
    const only = new Map(weights);
    only.delete('shared.weight');
    const runner = await T5EncoderRunner.create({ config: t5Config, weights: tensorSource(only), length, threads: 1 });
    try {
      const err = relErr(await runner.forward(rows.slice(0, 1)), vector(cases, 'last_hidden_state').subarray(0, length * t5Config.d_model));
      assert.ok(err < TOLERANCE, `relative error ${err}`);
    } finally {
      await runner.release();
    }
  });

  it('plans T5-XXL in float32 as stages under the 1.5 GiB budget: the 526 MB embedding with block 0, then pairs of 772 MB blocks', () => {
    const stages = planT5Stages(T5_V1_1_XXL, 'float32');
    assert.deepEqual(stages[0], { start: 0, end: 1 });
    assert.equal(stages.length, 13);
    for (const s of stages.slice(1)) assert.equal(s.end - s.start, s.end === 24 && s.start === 23 ? 1 : 2, JSON.stringify(s));
    assert.deepEqual(stages.at(-1), { start: 23, end: 24 });
  });

  it('refuses a misshapen tensor, a stray key, an id outside the vocabulary and float16, naming each', async () => {
    const bad = new Map(weights);
    const key = 'encoder.block.1.layer.1.DenseReluDense.wo.weight';
    bad.set(key, { shape: [48, 32], data: weights.get(key)!.data });
    await assert.rejects(
      T5EncoderRunner.create({ config: t5Config, weights: tensorSource(bad), length }),
      /'encoder\.block\.1\.layer\.1\.DenseReluDense\.wo\.weight' is \[48,32\]/,
    );
    const stray = new Map(weights);
    stray.set('decoder.block.0.layer.0.SelfAttention.q.weight', weights.get('encoder.block.0.layer.0.SelfAttention.q.weight')!);
    await assert.rejects(
      T5EncoderRunner.create({ config: t5Config, weights: tensorSource(stray), length }),
      /1 keys this config has no parameter for \(decoder\.block\.0/,
    );
    assert.throws(() => buildT5Graph(t5Config, { batch: 1, length }, { dtype: 'float16' }), /overflows float16/);
    const runner = await T5EncoderRunner.create({ config: t5Config, weights: tensorSource(weights), length: 4, threads: 1 });
    try {
      await assert.rejects(runner.forward([[1, 2, 64, 0]]), /id 64 in row 0 is outside the vocabulary/);
    } finally {
      await runner.release();
    }
  });
});
