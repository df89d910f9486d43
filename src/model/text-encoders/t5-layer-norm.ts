// T5LayerNorm (modeling_t5.py): RMS norm with a learned `<path>.weight`, no mean subtracted and
// no bias: w · x / √(mean(x²) + eps). HF accumulates the variance in float32 for half inputs
// (`hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)`), then casts back to the
// weight's dtype before the product; float16 graphs do the same here.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { TextParamStore } from './params.ts';

export class T5LayerNorm {
  readonly weight: Value;

  constructor(
    store: TextParamStore,
    path: string,
    dim: number,
    readonly eps: number,
  ) {
    this.weight = store.param(`${path}.weight`, [dim]);
  }

  forward(x: Value): Value {
    const xs = x.dtype === 'float16' ? F.cast(x, 'float32') : x;
    const variance = F.reduceMean(F.square(xs), -1);
    const normed = F.cast(F.mul(xs, F.reciprocal(F.sqrt(F.add(variance, this.eps)))), x.dtype);
    return F.mul(this.weight, normed);
  }
}
