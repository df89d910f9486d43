// x0-prediction (flux/prediction.ts): the graph's output must be the velocity (x_t − x̂0)/max(t, min_t)
// implied by the network's raw output, checked against the velocity model on flux-tiny's reference
// inputs, plus its gradient by finite differences.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Session } from '../../src/engine/session.ts';
import { fluxFeeds } from '../../src/model/flux/feeds.ts';
import { cleanFromVelocity, parsePrediction, velocityFromX0 } from '../../src/model/flux/prediction.ts';
import { FluxRunner } from '../../src/model/flux/runner.ts';
import { buildFluxTrainingGraph } from '../../src/model/flux/training.ts';
import { weightFeeds } from '../../src/model/flux/weights.ts';
import { gradOutput, LOSS_OUTPUT } from '../../src/model/train/step.ts';
import { forwardBatch, load, params, relErr, shape } from './flux-tiny-fixture.ts';

describe('x0 prediction', () => {
  it('parses the config field and rejects nonsense', () => {
    assert.deepEqual(parsePrediction(undefined), { type: 'velocity' });
    assert.deepEqual(parsePrediction({ type: 'x0', min_t: 0.05 }), { type: 'x0', min_t: 0.05 });
    assert.throws(() => parsePrediction({ type: 'x0' }), /min_t/);
    assert.throws(() => parsePrediction({ type: 'eps' }), /prediction/);
  });

  it('outputs the velocity implied by the raw network output, with t clipped at min_t', async () => {
    const weights = load('weights');
    const batch = forwardBatch();
    // one sample below min_t so the clip is exercised
    batch.timesteps = Float64Array.of(0.02, 0.7);
    const prediction = { type: 'x0', min_t: 0.05 } as const;
    const raw = await FluxRunner.create({ params, weights, shape, dtype: 'float64' });
    const x0 = await FluxRunner.create({ params, weights, shape, dtype: 'float64', prediction });
    const rawOut = await raw.forward(batch);
    const got = await x0.forward(batch);
    const n = rawOut.length / 2;
    for (let b = 0; b < 2; b++) {
      const want = velocityFromX0(
        Array.from(batch.img).slice(b * n, (b + 1) * n),
        Array.from(rawOut).slice(b * n, (b + 1) * n),
        batch.timesteps[b]!,
        prediction.min_t,
      );
      const err = relErr(got.subarray(b * n, (b + 1) * n), want);
      assert.ok(err < 1e-10, `sample ${b}: relative error ${err}`);
      // and back: the velocity output gives the network's x̂0 again (float32 result)
      const back = cleanFromVelocity(prediction, Array.from(batch.img).slice(b * n, (b + 1) * n), got.subarray(b * n, (b + 1) * n), batch.timesteps[b]!);
      const backErr = relErr(back, Array.from(rawOut).slice(b * n, (b + 1) * n));
      assert.ok(backErr < 1e-6, `sample ${b}: x̂0 round trip relative error ${backErr}`);
    }
    await raw.release();
    await x0.release();
  });

  it('trains: the loss gradient matches finite differences', async () => {
    const weights = load('weights');
    const batch = forwardBatch();
    const tg = buildFluxTrainingGraph(params, shape, {
      dtype: 'float64',
      trainable: (k) => k === 'final_layer.linear.bias',
      prediction: { type: 'x0', min_t: 0.05 },
    });
    const session = await Session.create({ outputs: tg.outputs });
    const target = Float64Array.from({ length: tg.target.shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
    const run = async (bias: Float64Array) => {
      const w = new Map(weights);
      w.set('final_layer.linear.bias', { shape: weights.get('final_layer.linear.bias')!.shape, data: bias });
      return session.run({ ...fluxFeeds(params, shape, 'float64', batch), ...weightFeeds(tg.flux.store.params, w), target });
    };
    const bias = Float64Array.from(weights.get('final_layer.linear.bias')!.data);
    const g = (await run(bias))[gradOutput('final_layer.linear.bias')]!;
    for (const i of [0, 3, 7]) {
      const h = 1e-6;
      const up = Float64Array.from(bias);
      up[i]! += h;
      const dn = Float64Array.from(bias);
      dn[i]! -= h;
      const fd = (Number((await run(up))[LOSS_OUTPUT]![0]) - Number((await run(dn))[LOSS_OUTPUT]![0])) / (2 * h);
      assert.ok(Math.abs(fd - Number(g[i])) <= 1e-6 * Math.max(1, Math.abs(fd)), `bias[${i}]: analytic ${g[i]}, finite difference ${fd}`);
    }
    await session.release();
  });
});
