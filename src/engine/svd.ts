// Truncated SVD (A ≈ U_r Σ_r V_rᵀ). A randomized range finder with power iterations (Halko,
// Martinsson & Tropp 2011) shrinks the problem to (r + oversampling) columns; ml-matrix does the
// small exact SVD. The products and the orthonormalisation run on flat arrays (ml-matrix's were ~3× slower).

import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from './rng.ts';

export interface TruncatedSvd {
  /** [rows, rank] */
  u: Matrix;
  s: number[];
  /** [cols, rank] */
  v: Matrix;
}

/**
 * An orthonormal basis of a tall-thin matrix's columns: modified Gram–Schmidt, run twice so the
 * basis stays orthogonal to rounding (Giraud et al. 2005, "twice is enough"). ml-matrix's
 * Householder QR gives the same span but reads every entry through get(), ~3× slower here.
 * A column that vanishes against the others (rank deficiency) is left as zeros.
 */
function orthonormalColumns(m: Matrix): Matrix {
  const [rows, cols] = [m.rows, Math.min(m.rows, m.columns)];
  const c: Float64Array[] = [];
  for (let j = 0; j < cols; j++) c.push(Float64Array.from(m.getColumn(j)));
  for (let j = 0; j < cols; j++) {
    const v = c[j]!;
    const before = Math.sqrt(v.reduce((t, x) => t + x * x, 0));
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const u = c[i]!;
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += u[r]! * v[r]!;
        for (let r = 0; r < rows; r++) v[r]! -= dot * u[r]!;
      }
    }
    const norm = Math.sqrt(v.reduce((t, x) => t + x * x, 0));
    const scale = norm > 1e-12 * Math.max(before, Number.MIN_VALUE) ? 1 / norm : 0;
    for (let r = 0; r < rows; r++) v[r]! *= scale;
  }
  const out = new Matrix(rows, cols);
  for (let j = 0; j < cols; j++) out.setColumn(j, c[j]!);
  return out;
}

/** A row-major copy of a matrix's entries. */
function flat(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) out.set(m.getRow(i), i * m.columns);
  return out;
}

/**
 * A·X (or Aᵀ·X) for a tall-thin X, with A held flat: ml-matrix's mmul reads every entry through
 * get(), and these products are most of a full finetune's LoRA extraction.
 */
function product(a: Float64Array, rows: number, cols: number, x: Matrix, transposeA: boolean): Matrix {
  const l = x.columns;
  const xf = flat(x);
  const outRows = transposeA ? cols : rows;
  const out = new Float64Array(outRows * l);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) {
      const aik = a[i * cols + k]!;
      // A·X: out[i] += a_ik·x[k]; Aᵀ·X: out[k] += a_ik·x[i].
      const o = transposeA ? k * l : i * l;
      const xi = transposeA ? i * l : k * l;
      for (let j = 0; j < l; j++) out[o + j]! += aik * xf[xi + j]!;
    }
  }
  const m = new Matrix(outRows, l);
  for (let i = 0; i < outRows; i++) m.setRow(i, out.subarray(i * l, (i + 1) * l));
  return m;
}

export function truncatedSvd(a: Matrix, rank: number, opts: { oversample?: number; powerIters?: number; seed?: number } = {}): TruncatedSvd {
  const k = Math.min(rank, a.rows, a.columns);
  const l = Math.min(k + (opts.oversample ?? 8), a.rows, a.columns);
  const rng = new Rng(opts.seed ?? 0);
  const omega = new Matrix(a.columns, l);
  for (let i = 0; i < a.columns; i++) for (let j = 0; j < l; j++) omega.set(i, j, rng.normal());
  const af = flat(a);
  const times = (x: Matrix) => product(af, a.rows, a.columns, x, false);
  const transposeTimes = (x: Matrix) => product(af, a.rows, a.columns, x, true);
  let q = orthonormalColumns(times(omega));
  for (let it = 0; it < (opts.powerIters ?? 4); it++) {
    q = orthonormalColumns(times(orthonormalColumns(transposeTimes(q))));
  }
  const b = transposeTimes(q).transpose(); // [l, cols] = Qᵀ·A
  const svd = new SingularValueDecomposition(b, { autoTranspose: true });
  const u = q.mmul(svd.leftSingularVectors).subMatrix(0, a.rows - 1, 0, k - 1);
  const v = svd.rightSingularVectors.subMatrix(0, a.columns - 1, 0, k - 1);
  return { u, s: svd.diagonal.slice(0, k), v };
}
