// CLIPEncoderLayer (modeling_clip.py): pre-norm residuals,
// x + self_attn(layer_norm1(x)), then x + mlp(layer_norm2(x)).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { ClipAttention } from './clip-attention.ts';
import { ClipMlp } from './clip-mlp.ts';
import type { ClipTextConfig } from './config.ts';
import { LayerNorm } from './layer-norm.ts';
import type { TextParamStore } from './params.ts';

export class ClipEncoderLayer {
  readonly selfAttn: ClipAttention;
  readonly layerNorm1: LayerNorm;
  readonly mlp: ClipMlp;
  readonly layerNorm2: LayerNorm;

  constructor(store: TextParamStore, path: string, config: ClipTextConfig) {
    this.selfAttn = new ClipAttention(store, `${path}.self_attn`, config);
    this.layerNorm1 = new LayerNorm(store, `${path}.layer_norm1`, config.hidden_size, config.layer_norm_eps);
    this.mlp = new ClipMlp(store, `${path}.mlp`, config);
    this.layerNorm2 = new LayerNorm(store, `${path}.layer_norm2`, config.hidden_size, config.layer_norm_eps);
  }

  forward(x: Value, causalMask: Value): Value {
    const h = F.add(x, this.selfAttn.forward(this.layerNorm1.forward(x), causalMask));
    return F.add(h, this.mlp.forward(this.layerNorm2.forward(h)));
  }
}
