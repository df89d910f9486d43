// T5DenseActDense (modeling_t5.py), the original T5's FFN: wo(act(wi x)), bias-free. FLUX's
// T5 v1.1 is gated (t5-dense-gated-act-dense.ts); this one serves configs with is_gated_act false.

import type { Value } from '../../engine/graph.ts';
import { activation } from './activations.ts';
import type { T5Config } from './config.ts';
import { Linear } from './linear.ts';
import type { TextParamStore } from './params.ts';

export class T5DenseActDense {
  readonly wi: Linear;
  readonly wo: Linear;
  private readonly act: (x: Value) => Value;

  constructor(store: TextParamStore, path: string, config: T5Config) {
    this.wi = new Linear(store, `${path}.wi`, config.d_model, config.d_ff, false);
    this.wo = new Linear(store, `${path}.wo`, config.d_ff, config.d_model, false);
    this.act = activation(config.dense_act_fn);
  }

  forward(x: Value): Value {
    return this.wo.forward(this.act(this.wi.forward(x)));
  }
}
