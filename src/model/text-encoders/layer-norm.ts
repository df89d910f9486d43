// nn.LayerNorm(d, eps) with its affine `<path>.weight` and `<path>.bias` (CLIP's layer_norm1/2 and
// final_layer_norm): mean and biased variance over the last axis.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { TextParamStore } from './params.ts';

export class LayerNorm {
  readonly weight: Value;
  readonly bias: Value;

  constructor(
    store: TextParamStore,
    path: string,
    dim: number,
    readonly eps: number,
  ) {
    this.weight = store.param(`${path}.weight`, [dim]);
    this.bias = store.param(`${path}.bias`, [dim]);
  }

  forward(x: Value): Value {
    return F.layerNorm(x, this.eps, this.weight, this.bias);
  }
}
