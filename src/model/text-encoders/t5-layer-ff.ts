// T5LayerFF (`layer.1` of an encoder block): pre-norm residual, x + DenseReluDense(layer_norm(x))
// (the module keeps the name DenseReluDense whatever its activation).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { T5Config } from './config.ts';
import type { TextParamStore } from './params.ts';
import { T5DenseActDense } from './t5-dense-act-dense.ts';
import { T5DenseGatedActDense } from './t5-dense-gated-act-dense.ts';
import { T5LayerNorm } from './t5-layer-norm.ts';

export class T5LayerFF {
  readonly denseReluDense: T5DenseGatedActDense | T5DenseActDense;
  readonly layerNorm: T5LayerNorm;

  constructor(store: TextParamStore, path: string, config: T5Config) {
    const dense = `${path}.DenseReluDense`;
    this.denseReluDense = config.is_gated_act ? new T5DenseGatedActDense(store, dense, config) : new T5DenseActDense(store, dense, config);
    this.layerNorm = new T5LayerNorm(store, `${path}.layer_norm`, config.d_model, config.layer_norm_epsilon);
  }

  forward(x: Value): Value {
    return F.add(x, this.denseReluDense.forward(this.layerNorm.forward(x)));
  }
}
