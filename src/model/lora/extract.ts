// LoRA extraction: the ΔW of a full finetune factored into rank-r LoRA matrices by truncated SVD
// (ΔW ≈ U_r Σ_r V_rᵀ), so a full finetune ships in the same form as a LoRA one.

import { Matrix } from 'ml-matrix';
import { truncatedSvd } from '../../engine/svd.ts';

/**
 * Factors a row-major [out, in] ΔW into LoRA matrices B [out, r] and A [r, in] with ΔW ≈ B·A,
 * splitting √σ into both sides, and reports the relative Frobenius error of the approximation.
 */
export function extractLora(delta: Float32Array, out: number, inF: number, rank: number, seed = 0) {
  const a = new Matrix(out, inF);
  for (let i = 0; i < out; i++) for (let j = 0; j < inF; j++) a.set(i, j, delta[i * inF + j]!);
  const { u, s, v } = truncatedSvd(a, rank, { seed });
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
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < inF; j++) {
      let approx = 0;
      for (let k = 0; k < r; k++) approx += loraB[i * rank + k]! * loraA[k * inF + j]!;
      const d = delta[i * inF + j]!;
      total += d * d;
      err += (d - approx) ** 2;
    }
  }
  return { loraA, loraB, relativeError: total > 0 ? Math.sqrt(err / total) : 0 };
}
