// Truncated SVD (A ≈ U_r Σ_r V_rᵀ) at matmul speed. A randomized range finder with power iterations
// (Halko, Martinsson & Tropp 2011) shrinks the problem to l = r + oversampling columns. Every product
// with A, and every Gram matrix, runs in ONNX Runtime (float64 MatMul/Gemm); JavaScript only factors
// l×l matrices. Orthonormalisation is shifted CholeskyQR3 (Fukaya et al. 2020): stable for any
// condition number, which power iterations make huge (σ₁/σ_l to the 2q+1). The small SVD is the
// eigendecomposition of BBᵀ with B = QᵀA (l×l), since only the leading r of l values are kept.
// In plain JavaScript the products and a Gram–Schmidt were ~95% of a full finetune's LoRA extraction.

import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Graph } from './graph.ts';
import { gemm } from './ops.ts';
import { Rng } from './rng.ts';
import { Session } from './session.ts';

export interface TruncatedSvd {
  /** [rows, k] row-major, orthonormal columns */
  u: Float64Array;
  /** k singular values, descending */
  s: number[];
  /** [cols, k] row-major, orthonormal columns (zero where σ is 0) */
  v: Float64Array;
  k: number;
  /** ‖A − U Σ Vᵀ‖_F / ‖A‖_F (UΣVᵀ is A projected onto U's span, so this is exact up to rounding). */
  relativeError: number;
}

const EPS = 2 ** -52;

/**
 * One float64 Gemm session per (shape, transA), built on first use and kept for the process. One
 * thread: the products are thin (l ≈ 40 columns) and many, and a second spinning thread made each
 * call ~5× slower whenever another process held a core.
 */
const sessions = new Map<string, Promise<Session>>();

function gemmSession(aRows: number, aCols: number, bCols: number, transA: boolean): Promise<Session> {
  const key = `${transA ? 't' : 'n'}:${aRows}x${aCols}:${bCols}`;
  let s = sessions.get(key);
  if (!s) {
    const g = new Graph();
    const a = g.input('a', [aRows, aCols], 'float64');
    const b = g.input('b', [transA ? aRows : aCols, bCols], 'float64');
    s = Session.create({ outputs: { y: gemm(a, b, undefined, { transA }) }, threads: 1 });
    sessions.set(key, s);
  }
  return s;
}

/** A·B, or Aᵀ·B with `transA`, for row-major A [aRows, aCols]. */
async function product(a: Float64Array, aRows: number, aCols: number, b: Float64Array, bCols: number, transA = false): Promise<Float64Array> {
  const s = await gemmSession(aRows, aCols, bCols, transA);
  return (await s.run({ a, b })).y as Float64Array;
}

/**
 * R⁻¹ of the Cholesky factor of an l×l Gram matrix G = RᵀR (upper R), row-major. A pivot at
 * rounding level (a column that is zero, or the others' combination) gets a zero row and column,
 * so X·R⁻¹ leaves it zero instead of blowing it up.
 */
function inverseCholesky(g: Float64Array, l: number): Float64Array {
  const r = new Float64Array(l * l);
  const live = new Array<boolean>(l).fill(false);
  for (let j = 0; j < l; j++) {
    let d = g[j * l + j]!;
    for (let k = 0; k < j; k++) d -= r[k * l + j]! ** 2;
    // Also false for NaN, and for d = 0 on a zero column (g_jj = 0).
    if (!(d > EPS * g[j * l + j]!)) continue;
    live[j] = true;
    const rjj = Math.sqrt(d);
    r[j * l + j] = rjj;
    for (let i = j + 1; i < l; i++) {
      let v = g[j * l + i]!;
      for (let k = 0; k < j; k++) v -= r[k * l + j]! * r[k * l + i]!;
      r[j * l + i] = v / rjj;
    }
  }
  const inv = new Float64Array(l * l);
  for (let j = 0; j < l; j++) {
    if (!live[j]) continue;
    inv[j * l + j] = 1 / r[j * l + j]!;
    for (let i = j - 1; i >= 0; i--) {
      if (!live[i]) continue;
      let v = 0;
      for (let k = i + 1; k <= j; k++) v += r[i * l + k]! * inv[k * l + j]!;
      inv[i * l + j] = -v / r[i * l + i]!;
    }
  }
  return inv;
}

/** One CholeskyQR pass, X ← X·R⁻¹; with `shift`, G + sI first, which keeps Cholesky defined however ill-conditioned X is. */
async function choleskyQrPass(x: Float64Array, rows: number, l: number, shift: boolean): Promise<Float64Array> {
  const g = await product(x, rows, l, x, l, true);
  if (shift) {
    let trace = 0;
    for (let j = 0; j < l; j++) trace += g[j * l + j]!;
    const s = 11 * (rows * l + l * (l + 1)) * EPS * trace;
    for (let j = 0; j < l; j++) g[j * l + j]! += s;
  }
  return product(x, rows, l, inverseCholesky(g, l), l);
}

/** An orthonormal basis of a tall-thin X [rows, l]'s columns (shifted CholeskyQR3); a column with no new direction comes back zero. */
async function orthonormalColumns(x: Float64Array, rows: number, l: number): Promise<Float64Array> {
  let q = await choleskyQrPass(x, rows, l, true);
  q = await choleskyQrPass(q, rows, l, false);
  return choleskyQrPass(q, rows, l, false);
}

/** Rank-`rank` truncated SVD of a row-major A [rows, cols]. */
export async function truncatedSvd(
  a: Float64Array,
  rows: number,
  cols: number,
  rank: number,
  opts: { oversample?: number; powerIters?: number; seed?: number } = {},
): Promise<TruncatedSvd> {
  const k = Math.min(rank, rows, cols);
  const l = Math.min(k + (opts.oversample ?? 8), rows, cols);
  const rng = new Rng(opts.seed ?? 0);
  const omega = new Float64Array(cols * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let q = await orthonormalColumns(await product(a, rows, cols, omega, l), rows, l);
  for (let it = 0; it < (opts.powerIters ?? 4); it++) {
    const z = await orthonormalColumns(await product(a, rows, cols, q, l, true), cols, l);
    q = await orthonormalColumns(await product(a, rows, cols, z, l), rows, l);
  }
  // B = QᵀA, held as Z = Bᵀ = AᵀQ [cols, l]; BBᵀ = ZᵀZ = W Λ Wᵀ gives σ = √λ, U = QW, V = ZWΣ⁻¹.
  const z = await product(a, rows, cols, q, l, true);
  const bbt = await product(z, cols, l, z, l, true);
  const evd = new EigenvalueDecomposition(new Matrix(Array.from({ length: l }, (_, i) => Array.from(bbt.subarray(i * l, (i + 1) * l)))), {
    assumeSymmetric: true,
  });
  const order = evd.realEigenvalues.map((_, i) => i).sort((i, j) => evd.realEigenvalues[j]! - evd.realEigenvalues[i]!);
  const s = order.slice(0, k).map((i) => Math.sqrt(Math.max(0, evd.realEigenvalues[i]!)));
  const w = new Float64Array(l * k);
  for (let r = 0; r < l; r++) for (let c = 0; c < k; c++) w[r * k + c] = evd.eigenvectorMatrix.get(r, order[c]!);
  const u = await product(q, rows, l, w, k);
  const v = await product(z, cols, l, w, k);
  // A σ at rounding level has no direction worth keeping: its column of V is zero.
  const floor = Math.sqrt(l * EPS) * (s[0] ?? 0);
  for (let c = 0; c < k; c++) {
    const inv = s[c]! > floor ? 1 / s[c]! : 0;
    if (inv === 0) s[c] = 0;
    for (let r = 0; r < cols; r++) v[r * k + c]! *= inv;
  }
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i]! * a[i]!;
  const kept = s.reduce((t, x) => t + x * x, 0);
  return { u, s, v, k, relativeError: total > 0 ? Math.sqrt(Math.max(0, total - kept) / total) : 0 };
}
