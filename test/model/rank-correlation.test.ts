// Spearman's ρ against values worked out by hand (and matching scipy.stats.spearmanr).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageRanks, spearman } from '../../src/model/eval/rank-correlation.ts';

const close = (got: number, want: number, tol = 1e-12) => assert.ok(Math.abs(got - want) < tol, `${got} vs ${want}`);

describe('spearman', () => {
  it('ranks ties by the mean of the ranks they span', () => {
    assert.deepEqual([...averageRanks([5, 6, 7, 8, 7])], [1, 2, 3.5, 5, 3.5]);
    assert.deepEqual([...averageRanks([3, 3, 3])], [2, 2, 2]);
    assert.deepEqual([...averageRanks([0.2, -1, 0.2, 9, -1, 0.2])], [4, 1.5, 4, 6, 1.5, 4]);
  });

  it('without ties is 1 − 6Σd² / (n(n² − 1))', () => {
    // ranks of b: 1 3 2 5 4, d = 0 −1 1 −1 1, Σd² = 4: ρ = 1 − 24/120 = 0.8
    close(spearman([10, 20, 30, 40, 50], [1, 3, 2, 5, 4]), 0.8);
    close(spearman([1, 2, 3, 4], [10, 100, 1000, 10000]), 1);
    close(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    // a monotone map changes nothing
    const x = [0.3, 0.1, 0.7, 0.2, 0.9, 0.5];
    close(
      spearman(
        x,
        x.map((v) => Math.exp(5 * v)),
      ),
      1,
    );
  });

  it("with ties is the Pearson correlation of average ranks (scipy's docs example)", () => {
    // ranks 1..5 and 1 2 3.5 5 3.5: centred −2 −1 0 1 2 and −2 −1 .5 2 .5, Σ = 8, Σ² = 10 and 9.5:
    // ρ = 8 / √95 = 0.8207826816681233, the value scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]) gives
    close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / Math.sqrt(95));
    close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233, 1e-15);
    // ranks 1.5 1.5 3.5 3.5 and 1.5 3.5 1.5 3.5: centred products +1 −1 −1 +1 = 0
    close(spearman([1, 1, 2, 2], [1, 2, 1, 2]), 0);
    // ranks 1 2 3 4 and 2 2 2 4 (three tied): centred −1.5 −.5 .5 1.5 and −.5 −.5 −.5 1.5: Σ = 3, Σ² = 5 and 3: ρ = 3/√15
    close(spearman([1, 2, 3, 4], [0, 0, 0, 1]), 3 / Math.sqrt(15));
    close(spearman(new Float32Array([1, 2, 3, 4]), new Float32Array([0, 0, 0, 1])), 0.7745966692414834, 1e-15);
  });

  it('is symmetric and NaN for a constant sample', () => {
    const a = [3, 1, 4, 1, 5, 9, 2, 6];
    const b = [2, 7, 1, 8, 2, 8, 1, 8];
    close(spearman(a, b), spearman(b, a));
    assert.ok(Number.isNaN(spearman([1, 2, 3], [7, 7, 7])));
    assert.throws(() => spearman([1, 2], [1, 2, 3]));
  });
});
