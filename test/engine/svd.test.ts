import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from '../../src/engine/rng.ts';
import { truncatedSvd } from '../../src/engine/svd.ts';

function flat(m: Matrix): Float64Array {
  return Float64Array.from(m.to1DArray());
}

/** max |(XᵀX − I)_ij| of a row-major X [rows, k]. */
function orthogonalityError(x: Float64Array, rows: number, k: number): number {
  let worst = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += x[r * k + a]! * x[r * k + b]!;
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

describe('truncated SVD', () => {
  it('leading singular values and the rank-k product match a full SVD', async () => {
    const rng = new Rng(5);
    const m = new Matrix(40, 30);
    for (let i = 0; i < 40; i++) for (let j = 0; j < 30; j++) m.set(i, j, rng.normal() * (1 + (j < 5 ? 5 : 0)));
    const full = new SingularValueDecomposition(m);
    const t = await truncatedSvd(flat(m), 40, 30, 6, { powerIters: 6 });
    t.s.forEach((s, i) => {
      assert.ok(Math.abs(s - full.diagonal[i]!) / full.diagonal[i]! < 1e-3, `σ${i}: ${s} vs ${full.diagonal[i]}`);
    });
    assert.ok(orthogonalityError(t.u, 40, 6) < 1e-10);
    assert.ok(orthogonalityError(t.v, 30, 6) < 1e-10);
    // U Σ Vᵀ against the exact best rank-6 approximation.
    const best = full.leftSingularVectors
      .subMatrix(0, 39, 0, 5)
      .mmul(Matrix.diag(full.diagonal.slice(0, 6)))
      .mmul(full.rightSingularVectors.subMatrix(0, 29, 0, 5).transpose());
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 30; j++) {
        let x = 0;
        for (let c = 0; c < 6; c++) x += t.u[i * 6 + c]! * t.s[c]! * t.v[j * 6 + c]!;
        diff += (x - best.get(i, j)) ** 2;
        norm += best.get(i, j) ** 2;
      }
    }
    assert.ok(Math.sqrt(diff / norm) < 1e-3, `rank-6 product off by ${Math.sqrt(diff / norm)}`);
  });

  it('stays orthonormal when power iterations make the basis ill-conditioned', async () => {
    // σ from 1 down to 1e-14 over the basis' 28 columns: every product with A has condition number ~1e14,
    // past the 1e8 where plain CholeskyQR2 loses orthogonality.
    const rng = new Rng(9);
    const [rows, cols, r] = [120, 80, 20];
    const m = new Matrix(rows, cols);
    const left = new Matrix(rows, cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) left.set(i, j, rng.normal());
    const qu = new SingularValueDecomposition(left).leftSingularVectors;
    const right = new Matrix(cols, cols);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) right.set(i, j, rng.normal());
    const qv = new SingularValueDecomposition(right).leftSingularVectors;
    const sigma = Array.from({ length: cols }, (_, i) => 10 ** (-14 * Math.min(1, i / 27)));
    m.setSubMatrix(qu.mmul(Matrix.diag(sigma)).mmul(qv.transpose()), 0, 0);
    const t = await truncatedSvd(flat(m), rows, cols, r, { powerIters: 6 });
    assert.ok(orthogonalityError(t.u, rows, r) < 1e-8, `U orthogonality ${orthogonalityError(t.u, rows, r)}`);
    // σ comes from the eigenvalues of BBᵀ, so values below √ε·σ₁ are rounding: checked down to 1e-5.
    for (const [i, s] of t.s.entries()) {
      if (sigma[i]! > 1e-5) assert.ok(Math.abs(s - sigma[i]!) / sigma[i]! < 1e-4, `σ${i}: ${s} vs ${sigma[i]}`);
    }
    const rest = sigma.slice(r).reduce((a, s) => a + s * s, 0);
    const total = sigma.reduce((a, s) => a + s * s, 0);
    assert.ok(Math.abs(t.relativeError - Math.sqrt(rest / total)) < 1e-6);
  });

  it('a rank-deficient matrix: the missing directions get σ = 0, the rest is exact', async () => {
    const rng = new Rng(2);
    const [rows, cols] = [30, 20];
    const b = new Matrix(rows, 3);
    const a = new Matrix(3, cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < 3; j++) b.set(i, j, rng.normal());
    for (let i = 0; i < 3; i++) for (let j = 0; j < cols; j++) a.set(i, j, rng.normal());
    const t = await truncatedSvd(flat(b.mmul(a)), rows, cols, 8);
    assert.ok(
      t.s.slice(3).every((s) => s === 0),
      `σ beyond the rank: ${t.s.slice(3)}`,
    );
    assert.ok(t.relativeError < 1e-6, `error ${t.relativeError}`);
  });
});
