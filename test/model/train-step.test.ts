// TrainingStep has ONNX Runtime write the gradients straight into the SIMD AdamW's own memory; the
// step must still be exactly the one the TypeScript AdamW takes from ORT's own output arrays.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AdamW } from '../../src/engine/adamw.ts';
import { Graph } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { TrainingStep, trainingOutputs } from '../../src/model/train/step.ts';

it('trains the same weights bit for bit with gradients written into the AdamW kernel memory as without', async () => {
  const g = new Graph();
  const x = g.input('x', [16, 40], 'float32');
  const w1 = g.input('w1', [40, 24], 'float32');
  const w2 = g.input('w2', [24, 3], 'float32');
  const pred = F.matmul(F.tanh(F.matmul(x, w1)), w2);
  const step = await TrainingStep.create(
    trainingOutputs(
      pred,
      new Map([
        ['w1', w1],
        ['w2', w2],
      ]),
    ).outputs,
    { threads: 1 },
  );
  const rng = new Rng(3);
  const init = [rng.fillNormal(new Float32Array(40 * 24), 0.3), rng.fillNormal(new Float32Array(24 * 3), 0.3)];
  const params = () =>
    new Map([
      ['w1', Float32Array.from(init[0]!)],
      ['w2', Float32Array.from(init[1]!)],
    ]);
  const [simd, loops] = [new AdamW(params(), { lr: 0.05, maxGradNorm: 0.5 }), new AdamW(params(), { lr: 0.05, maxGradNorm: 0.5, simd: false })];
  assert.ok(simd.gradientBuffers && !loops.gradientBuffers);
  const diverged = () => new Error('diverged');
  const losses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const batch = { x: rng.fillNormal(new Float32Array(16 * 40)) };
    const target = rng.fillNormal(new Float32Array(16 * 3));
    const a = await step.run(simd, batch, target, { lr: 0.05, diverged });
    const b = await step.run(loops, batch, target, { lr: 0.05, diverged });
    assert.equal(a.loss, b.loss);
    losses.push(a.loss);
  }
  for (const k of ['w1', 'w2']) assert.deepEqual(simd.params.get(k), loops.params.get(k), k);
  assert.notDeepEqual(simd.params.get('w1'), init[0]);
  // the gradient of the last step landed in the kernel's slot
  assert.ok(simd.gradientBuffers!.get('w1')!.some((v) => v !== 0));
  await step.release();
});
