// LoRA extraction: the ΔW of a full finetune factored into rank-r LoRA matrices by truncated SVD
// (ΔW ≈ U_r Σ_r V_rᵀ), so a full finetune ships in the same form as a LoRA one.

import { Matrix } from 'ml-matrix';
import { truncatedSvd } from '../../engine/svd.ts';

/**
 * Factors a row-major [out, in] ΔW into LoRA matrices B [out, r] and A [r, in] with ΔW ≈ B·A,
 * splitting √σ into both sides, and reports the relative Frobenius error of the approximation.
 */
export function extractLora(delta: Float32Array, out: number, inF: number, rank: number, seed = 0, powerIters = 4) {
  const a = new Matrix(out, inF);
  for (let i = 0; i < out; i++) a.setRow(i, delta.subarray(i * inF, (i + 1) * inF));
  const { u, s, v } = truncatedSvd(a, rank, { seed, powerIters });
  const r = s.length;
  const loraB = new Float32Array(out * rank);
  const loraA = new Float32Array(rank * inF);
  for (let k = 0; k < r; k++) {
    const root = Math.sqrt(s[k]!);
    for (let i = 0; i < out; i++) loraB[i * rank + k] = u.get(i, k) * root;
    for (let j = 0; j < inF; j++) loraA[k * inF + j] = v.get(j, k) * root;
  }
  let total = 0;
  let err = 0;
  // Row by row, so the inner loop walks loraA's rows in order (a column walk was most of the extraction's time).
  const approx = new Float64Array(inF);
  for (let i = 0; i < out; i++) {
    approx.fill(0);
    for (let k = 0; k < r; k++) {
      const b = loraB[i * rank + k]!;
      for (let j = 0; j < inF; j++) approx[j]! += b * loraA[k * inF + j]!;
    }
    for (let j = 0; j < inF; j++) {
      const d = delta[i * inF + j]!;
      total += d * d;
      err += (d - approx[j]!) ** 2;
    }
  }
  return { loraA, loraB, relativeError: total > 0 ? Math.sqrt(err / total) : 0 };
}
