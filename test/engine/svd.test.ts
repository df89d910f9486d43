import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from '../../src/engine/rng.ts';
import { truncatedSvd } from '../../src/engine/svd.ts';

describe('truncated SVD', () => {
  it('leading singular values match a full SVD', () => {
    const rng = new Rng(5);
    const m = new Matrix(40, 30);
    for (let i = 0; i < 40; i++) for (let j = 0; j < 30; j++) m.set(i, j, rng.normal() * (1 + (j < 5 ? 5 : 0)));
    const full = new SingularValueDecomposition(m).diagonal;
    const t = truncatedSvd(m, 6, { powerIters: 6 });
    t.s.forEach((s, i) => {
      assert.ok(Math.abs(s - full[i]!) / full[i]! < 1e-3, `σ${i}: ${s} vs ${full[i]}`);
    });
  });
});
