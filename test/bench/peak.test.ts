// The MFU denominator: which products the peak is measured on, and that an MFU above 1 is never
// printed without its note.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mfus, modelGemms, type PeakSummary } from '../../bench/lib/peak.ts';
import { Graph } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';

describe('matmul peak', () => {
  it("takes the graph's largest 2-D products by total FLOPs, with their transposes, and skips batched ones", () => {
    const g = new Graph();
    const x = g.input('x', [4, 288, 256]);
    const w1 = g.input('w1', [1792, 256]);
    const w2 = g.input('w2', [256, 64]);
    const h = F.linear(x, w1); // Gemm 1152x256 · (1792x256)ᵀ
    const small = F.matmul(x, w2); // MatMul [4,288,256] · [256,64] = 1152x256x64
    const q = g.input('q', [4, 4, 288, 64]);
    const att = F.matmul(q, F.transpose(q, [0, 1, 3, 2])); // batched: not a peak shape
    const shapes = modelGemms([h, small, att], 3);
    assert.deepEqual(shapes, [
      { m: 1152, k: 256, n: 1792, transA: false, transB: true },
      { m: 1152, k: 256, n: 64, transA: false, transB: false },
    ]);
  });

  it('notes every MFU above 1 with the peak samples and load', () => {
    const peak: PeakSummary = { gflops: 100, best_shape: 'x', samples_gflops: [100, 60], spread: 0.4, shapes: {}, load_1m: [3, 9] };
    const fine = mfus({ mfu_forward: 80 }, peak);
    assert.deepEqual(fine, { mfu_forward: 0.8 });
    const over = mfus({ mfu_forward: 80, mfu_train: 120 }, peak);
    assert.equal(over.mfu_train, 1.2);
    assert.match(String(over.mfu_note), /mfu_train 1\.20 > 1.*100, 60 GFLOP\/s, spread 0\.4.*load 3, 9/);
  });
});
