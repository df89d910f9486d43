// Rectified-flow batches: the interpolation and target, forced t, and the timestep distribution
// (BFL's shift, and the uniform share that makes training reach t ≈ 1 where sampling starts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { flowBatch, learningRate, sampleTimestep, shiftMu, timeShift } from '../../src/model/train/flow.ts';

describe('rectified-flow batches', () => {
  it('x_t = (1 − t)·x0 + t·ε and target = ε − x0, so x0 = x_t − t·target', () => {
    const x0 = [Float32Array.from({ length: 12 }, (_, i) => i / 6 - 1), Float32Array.from({ length: 12 }, (_, i) => Math.sin(i))];
    const b = flowBatch(new Rng(3), x0, 4, [0.25, 0.9]);
    assert.deepEqual([...b.t], [0.25, 0.9].map(Math.fround));
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < 12; i++) {
        const recovered = b.xt[k * 12 + i]! - b.t[k]! * b.target[k * 12 + i]!;
        assert.ok(Math.abs(recovered - x0[k]![i]!) < 1e-5);
      }
    }
  });

  it('is deterministic under a seed', () => {
    const x0 = [new Float32Array(8).fill(0.5)];
    assert.deepEqual(flowBatch(new Rng(9), x0, 256, { uniform: 0.25 }), flowBatch(new Rng(9), x0, 256, { uniform: 0.25 }));
  });

  it("follows BFL's time shift: μ through (256, 0.5) and (4096, 1.15)", () => {
    assert.ok(Math.abs(shiftMu(256) - 0.5) < 1e-12);
    assert.ok(Math.abs(shiftMu(4096) - 1.15) < 1e-12);
    assert.ok(Math.abs(shiftMu(256, 1.1, 1.75) - 1.1) < 1e-12);
    // e^μ / (e^μ + (1/t − 1)) at t = 0.5 is the sigmoid of μ.
    assert.ok(Math.abs(timeShift(1, 0.5) - 1 / (1 + Math.exp(-1))) < 1e-12);
    assert.equal(timeShift(2, 0), 0);
    assert.equal(timeShift(2, 1), 1);
  });

  it('a uniform share and a stronger shift put far more training at high noise', () => {
    const share = (o: Parameters<typeof sampleTimestep>[2]) => {
      const rng = new Rng(1);
      let high = 0;
      const n = 20000;
      for (let i = 0; i < n; i++) {
        const t = sampleTimestep(rng, 256, o);
        assert.ok(t >= 0 && t <= 1);
        if (t > 0.95) high++;
      }
      return high / n;
    };
    const bfl = share({});
    const mini = share({ baseShift: 1.1, maxShift: 1.75, uniform: 0.25 });
    // Logit-normal with μ = 0.5: P(t > 0.95) ≈ 0.7 %; flux-mini's mix ≈ 6 %.
    assert.ok(bfl > 0.003 && bfl < 0.012, `BFL default share above 0.95: ${bfl}`);
    assert.ok(mini > 0.045 && mini < 0.075, `flux-mini share above 0.95: ${mini}`);
  });

  it('learning rate: linear warm-up, cosine decay to the floor', () => {
    assert.ok(Math.abs(learningRate(0, 100, 1, 10) - 0.1) < 1e-12);
    assert.ok(Math.abs(learningRate(9, 100, 1, 10) - 1) < 1e-12);
    assert.ok(Math.abs(learningRate(100, 100, 1, 10, 0.1) - 0.1) < 1e-12);
    assert.ok(learningRate(50, 100, 1, 10) < learningRate(20, 100, 1, 10));
  });
});
