// T5LayerSelfAttention (`layer.0` of a block): pre-norm residual, x + SelfAttention(layer_norm(x)).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { T5Config } from './config.ts';
import type { TextParamStore } from './params.ts';
import { T5Attention } from './t5-attention.ts';
import { T5LayerNorm } from './t5-layer-norm.ts';

export class T5LayerSelfAttention {
  readonly selfAttention: T5Attention;
  readonly layerNorm: T5LayerNorm;

  constructor(store: TextParamStore, path: string, config: T5Config, hasRelativeAttentionBias: boolean) {
    this.selfAttention = new T5Attention(store, `${path}.SelfAttention`, config, hasRelativeAttentionBias);
    this.layerNorm = new T5LayerNorm(store, `${path}.layer_norm`, config.d_model, config.layer_norm_epsilon);
  }

  forward(x: Value, positionBias: Value): Value {
    return F.add(x, this.selfAttention.forward(this.layerNorm.forward(x), positionBias));
  }
}
