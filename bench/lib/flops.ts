// Matmul FLOPs actually present in an emitted graph (2·M·N·K per product, batch included): the
// numerator of every MFU figure we print.

import { nodesFor, type Value } from '../../src/engine/graph.ts';

export function matmulFlops(outputs: readonly Value[]): number {
  let flops = 0;
  for (const n of nodesFor(outputs)) {
    if (n.op === 'MatMul') {
      const [a] = n.inputs;
      const out = n.outputs[0]!;
      const k = a!.shape[a!.rank - 1]!;
      flops += 2 * out.size * k;
    } else if (n.op === 'Gemm') {
      const a = n.inputs[0]!;
      const k = n.attrs.transA ? a.shape[0]! : a.shape[1]!;
      flops += 2 * n.outputs[0]!.size * k;
    }
  }
  return flops;
}

/**
 * FLOPs of one rank-r LoRA extraction of an [out, in] ΔW (lora/extract.ts over engine/svd.ts's
 * randomized SVD with l = r + oversample columns): the 2 + 2·powerIters products with A or Aᵀ
 * (2·out·in·l each), the twice-run Gram–Schmidt of every tall basis (4·rows·l² each), U = Q·U_B
 * (2·out·l²) and the error check's B·A (2·out·in·r). The small l × l SVD is left out (a floor
 * may only undercount).
 */
export function loraExtractionFlops(out: number, inF: number, rank: number, powerIters: number, oversample = 8): number {
  const r = Math.min(rank, out, inF);
  const l = Math.min(r + oversample, out, inF);
  const products = (2 + 2 * powerIters) * 2 * out * inF * l;
  const bases = 4 * out * l * l * (1 + powerIters) + 4 * inF * l * l * powerIters;
  return products + bases + 2 * out * l * l + 2 * out * inF * r;
}
