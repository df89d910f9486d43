// FLUX forward, MSE loss and the gradient of every weight against BFL's reference (float64
// graphs; the reference ran in float64 from the float32-stored weights).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.ts';
import { type Results, Session } from '../../src/engine/session.ts';
import { timestepEmbedding } from '../../src/model/flux/embedders.ts';
import { fluxFeeds } from '../../src/model/flux/feeds.ts';
import { FluxRunner } from '../../src/model/flux/runner.ts';
import { buildFluxTrainingGraph } from '../../src/model/flux/training.ts';
import { unusedWeights, weightFeeds } from '../../src/model/flux/weights.ts';
import { gradOutput, LOSS_OUTPUT } from '../../src/model/train/step.ts';
import { data, forwardBatch, load, params, relErr, shape, TOLERANCE } from './flux-tiny-fixture.ts';

describe('flux-tiny forward and backward (float64)', () => {
  const tg = buildFluxTrainingGraph(params, shape, { dtype: 'float64', trainable: () => true, withOutput: true });
  let session: Session;
  let results: Results;

  before(async () => {
    session = await Session.create({ outputs: tg.outputs });
    const c = load('case_forward_backward');
    results = await session.run({
      ...fluxFeeds(params, shape, 'float64', forwardBatch()),
      ...weightFeeds(tg.flux.store.params, load('weights')),
      target: Float64Array.from(data(c, 'target')),
    });
  });
  after(() => session.release());

  it('declares exactly the checkpoint keys and shapes', () => {
    const weights = load('weights');
    assert.deepEqual(unusedWeights(tg.flux.store.params, weights), []);
    assert.equal(tg.flux.store.params.size, weights.size);
    for (const [k, v] of tg.flux.store.params) assert.deepEqual([...v.shape], weights.get(k)!.shape, k);
  });

  it('matches the output', () => {
    const err = relErr(results.out!, data(load('case_forward_backward'), 'out'));
    assert.ok(err < TOLERANCE, `out: relative error ${err}`);
  });

  it('matches the loss', () => {
    const err = relErr(results[LOSS_OUTPUT]!, data(load('case_forward_backward'), 'loss'));
    assert.ok(err < TOLERANCE, `loss: relative error ${err}`);
  });

  it('matches the gradient of every weight', () => {
    const c = load('case_forward_backward');
    const refKeys = [...c.keys()].filter((k) => k.startsWith('grad.')).sort();
    assert.deepEqual(refKeys, [...tg.trainable.keys()].map(gradOutput).sort());
    const bad: string[] = [];
    for (const key of refKeys) {
      const err = relErr(results[key]!, data(c, key));
      if (!(err < TOLERANCE)) bad.push(`${key}: ${err}`);
    }
    assert.deepEqual(bad, []);
  });
});

describe('flux-tiny forward (float32, as served)', () => {
  it('matches the output', async () => {
    const runner = await FluxRunner.create({ params, weights: load('weights'), shape });
    const err = relErr(await runner.forward(forwardBatch()), data(load('case_forward_backward'), 'out'));
    await runner.release();
    assert.ok(err < TOLERANCE, `out: relative error ${err}`);
  });
});

describe('timestep embedding', () => {
  it('matches timestep_embedding_256 (cos first, t × 1000)', async () => {
    const g = new Graph();
    const t = g.input('t', [2], 'float64');
    const session = await Session.create({ outputs: { emb: timestepEmbedding(t, 256) }, threads: 1 });
    const c = load('case_forward_backward');
    const emb = (await session.run({ t: Float64Array.from(data(c, 'timesteps')) })).emb!;
    const err = relErr(emb, data(c, 'timestep_embedding_256'));
    assert.ok(err < TOLERANCE, `relative error ${err}`);
    await session.release();
  });

  it('gives the documented values at t = 0.5', async () => {
    const g = new Graph();
    const t = g.input('t', [1], 'float64');
    const session = await Session.create({ outputs: { emb: timestepEmbedding(t, 256) }, threads: 1 });
    const emb = (await session.run({ t: Float64Array.of(0.5) })).emb as Float64Array;
    for (const [i, v] of [
      [0, -0.883849],
      [1, 0.945944],
      [128, -0.467772],
      [255, 0.053705],
    ] as const) {
      assert.ok(Math.abs(emb[i]! - v) < 1e-5, `emb[${i}] = ${emb[i]}, expected ${v}`);
    }
    await session.release();
  });
});
