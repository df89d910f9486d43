// End-to-end: a small FLUX-like transformer trained with our autodiff + AdamW on a toy task.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildStack, initParams } from '../../bench/flux-like-stack.ts';
import { AdamW } from '../../src/engine/adamw.ts';
import { grad } from '../../src/engine/autodiff.ts';
import { Graph, type Value } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';

const cfg = { hidden: 32, heads: 2, mlpRatio: 2, depth: 2, batch: 4, tokens: 6 };

/** Toy task: every token must output the mean of the sequence's tokens (needs attention) plus a fixed shift. */
async function train(seed: number, steps: number): Promise<number[]> {
  const g = new Graph();
  const stack = buildStack(g, cfg);
  const target = g.input('target', [cfg.batch, cfg.tokens, cfg.hidden]);
  const loss = F.mseLoss(stack.out, target);
  const grads = grad(loss, stack.params);
  const outputs: Record<string, Value> = { loss };
  stack.params.forEach((_p, i) => {
    outputs[`g${i}`] = grads[i]!;
  });
  const session = await Session.create({ outputs, threads: 1 });

  const params = initParams(stack.params, seed);
  const opt = new AdamW(params, { lr: 3e-3, weightDecay: 0, maxGradNorm: 1 });
  const rng = new Rng(seed + 1);
  const n = cfg.batch * cfg.tokens * cfg.hidden;
  const x = rng.fillNormal(new Float32Array(n));
  const vec = rng.fillNormal(new Float32Array(cfg.batch * cfg.hidden));
  const tgt = new Float32Array(n);
  for (let b = 0; b < cfg.batch; b++) {
    for (let d = 0; d < cfg.hidden; d++) {
      let mean = 0;
      for (let t = 0; t < cfg.tokens; t++) mean += x[(b * cfg.tokens + t) * cfg.hidden + d]! / cfg.tokens;
      for (let t = 0; t < cfg.tokens; t++) tgt[(b * cfg.tokens + t) * cfg.hidden + d] = mean + 0.5;
    }
  }
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const res = await session.run({ ...Object.fromEntries(params), x, vec, target: tgt });
    losses.push((res.loss as Float32Array)[0]!);
    const named: Record<string, Float32Array> = {};
    stack.params.forEach((p, i) => {
      named[p.name] = res[`g${i}`] as Float32Array;
    });
    opt.step(named);
  }
  await session.release();
  return losses;
}

describe('training a small transformer', () => {
  it('loss falls at least 10x, and the same seed gives the same losses', async () => {
    const a = await train(7, 150);
    const first = a[0]!;
    const last = a[a.length - 1]!;
    assert.ok(first / last >= 10, `loss fell only from ${first} to ${last}`);
    const b = await train(7, 150);
    assert.deepEqual(b, a);
  });
});
