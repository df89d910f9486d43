// LoRA extraction: the ΔW of a full finetune factored into rank-r LoRA matrices by truncated SVD
// (ΔW ≈ U_r Σ_r V_rᵀ), so a full finetune ships in the same form as a LoRA one.

import { truncatedSvd } from '../../engine/svd.ts';

/**
 * Factors a row-major [out, in] ΔW into LoRA matrices B [out, r] and A [r, in] with ΔW ≈ B·A,
 * splitting √σ into both sides, and reports the relative Frobenius error of the approximation
 * (of the float64 factors; storing them as float32 adds rounding only).
 */
export async function extractLora(delta: Float32Array, out: number, inF: number, rank: number, seed = 0, powerIters = 4) {
  const { u, s, v, k, relativeError } = await truncatedSvd(Float64Array.from(delta), out, inF, rank, { seed, powerIters });
  const loraB = new Float32Array(out * rank);
  const loraA = new Float32Array(rank * inF);
  for (let c = 0; c < k; c++) {
    const root = Math.sqrt(s[c]!);
    for (let i = 0; i < out; i++) loraB[i * rank + c] = u[i * k + c]! * root;
    for (let j = 0; j < inF; j++) loraA[c * inF + j] = v[j * k + c]! * root;
  }
  return { loraA, loraB, relativeError };
}
