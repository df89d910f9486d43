// T5DenseGatedActDense (modeling_t5.py), T5 v1.1's FFN: wo(act(wi_0 x) · wi_1 x), all bias-free,
// act = gelu_new (the tanh approximation) for the FLUX T5. HF keeps `wo` in float32
// (`_keep_in_fp32_modules = ["wo"]`) because its input overflows float16 in the XXL model.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { activation } from './activations.ts';
import type { T5Config } from './config.ts';
import { Linear } from './linear.ts';
import type { TextParamStore } from './params.ts';

export class T5DenseGatedActDense {
  readonly wi0: Linear;
  readonly wi1: Linear;
  readonly wo: Linear;
  private readonly act: (x: Value) => Value;

  constructor(store: TextParamStore, path: string, config: T5Config) {
    this.wi0 = new Linear(store, `${path}.wi_0`, config.d_model, config.d_ff, false);
    this.wi1 = new Linear(store, `${path}.wi_1`, config.d_model, config.d_ff, false);
    this.wo = new Linear(store, `${path}.wo`, config.d_ff, config.d_model, false);
    this.act = activation(config.dense_act_fn);
  }

  forward(x: Value): Value {
    return this.wo.forward(F.mul(this.act(this.wi0.forward(x)), this.wi1.forward(x)));
  }
}
