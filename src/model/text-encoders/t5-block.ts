// T5Block of the encoder: `layer.0` self-attention then `layer.1` FFN (a decoder block would
// have cross-attention between them). HF clamps float16 hidden states to ±(65504 − 1000) after
// each sub-layer; this engine refuses float16 for T5 instead (see README: v1.1 XXL overflows it).

import type { Value } from '../../engine/graph.ts';
import type { T5Config } from './config.ts';
import type { TextParamStore } from './params.ts';
import { T5LayerFF } from './t5-layer-ff.ts';
import { T5LayerSelfAttention } from './t5-layer-self-attention.ts';

export class T5Block {
  readonly selfAttention: T5LayerSelfAttention;
  readonly ff: T5LayerFF;

  constructor(store: TextParamStore, path: string, config: T5Config, hasRelativeAttentionBias: boolean) {
    this.selfAttention = new T5LayerSelfAttention(store, `${path}.layer.0`, config, hasRelativeAttentionBias);
    this.ff = new T5LayerFF(store, `${path}.layer.1`, config);
  }

  forward(x: Value, positionBias: Value): Value {
    return this.ff.forward(this.selfAttention.forward(x, positionBias));
  }
}
