// nn.Linear with BFL's LoRA wrapper semantics (src/flux/modules/lora.py):
// y = W x + b + scale · (B (A x) + b_B). The branch is added after the base Gemm rather than
// merged into W, so the fed `scale` can change the strength between runs and scale 0 leaves
// the base output bit-for-bit (base + 0 is exact).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { LoraBranch, ParamStore } from './params.ts';

export class Linear {
  readonly weight: Value;
  readonly bias: Value | undefined;
  readonly lora: LoraBranch | undefined;

  constructor(
    store: ParamStore,
    /** BFL module path, e.g. `double_blocks.0.img_mlp.0`. */
    readonly path: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    hasBias = true,
  ) {
    this.weight = store.param(`${path}.weight`, [outFeatures, inFeatures]);
    this.bias = hasBias ? store.param(`${path}.bias`, [outFeatures]) : undefined;
    this.lora = store.loraFor(path, inFeatures, outFeatures);
  }

  forward(x: Value): Value {
    const y = F.linear(x, this.weight, this.bias);
    if (!this.lora) return y;
    const { down, up, bias, scale } = this.lora;
    const delta = F.linear(F.linear(x, down), up, bias);
    return F.add(y, F.mul(delta, scale));
  }
}
