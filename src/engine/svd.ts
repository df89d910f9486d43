// Truncated SVD (A ≈ U_r Σ_r V_rᵀ). A randomized range finder with power iterations (Halko,
// Martinsson & Tropp 2011) shrinks the problem to (r + oversampling) columns; ml-matrix does the
// QR and the small exact SVD.

import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from './rng.ts';

export interface TruncatedSvd {
  /** [rows, rank] */
  u: Matrix;
  s: number[];
  /** [cols, rank] */
  v: Matrix;
}

function orthonormalColumns(m: Matrix): Matrix {
  return new QrDecomposition(m).orthogonalMatrix.subMatrix(0, m.rows - 1, 0, Math.min(m.rows, m.columns) - 1);
}

export function truncatedSvd(a: Matrix, rank: number, opts: { oversample?: number; powerIters?: number; seed?: number } = {}): TruncatedSvd {
  const k = Math.min(rank, a.rows, a.columns);
  const l = Math.min(k + (opts.oversample ?? 8), a.rows, a.columns);
  const rng = new Rng(opts.seed ?? 0);
  const omega = new Matrix(a.columns, l);
  for (let i = 0; i < a.columns; i++) for (let j = 0; j < l; j++) omega.set(i, j, rng.normal());
  let q = orthonormalColumns(a.mmul(omega));
  const at = a.transpose();
  for (let it = 0; it < (opts.powerIters ?? 4); it++) {
    q = orthonormalColumns(a.mmul(orthonormalColumns(at.mmul(q))));
  }
  const b = q.transpose().mmul(a); // [l, cols]
  const svd = new SingularValueDecomposition(b, { autoTranspose: true });
  const u = q.mmul(svd.leftSingularVectors).subMatrix(0, a.rows - 1, 0, k - 1);
  const v = svd.rightSingularVectors.subMatrix(0, a.columns - 1, 0, k - 1);
  return { u, s: svd.diagonal.slice(0, k), v };
}
