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
