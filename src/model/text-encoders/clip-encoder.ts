// CLIPEncoder (modeling_clip.py): `layers.{i}`, applied in order with the same causal mask.

import type { Value } from '../../engine/graph.ts';
import { ClipEncoderLayer } from './clip-encoder-layer.ts';
import type { ClipTextConfig } from './config.ts';
import type { TextParamStore } from './params.ts';

export class ClipEncoder {
  readonly layers: ClipEncoderLayer[];

  constructor(store: TextParamStore, path: string, config: ClipTextConfig) {
    this.layers = Array.from({ length: config.num_hidden_layers }, (_, i) => new ClipEncoderLayer(store, `${path}.layers.${i}`, config));
  }

  forward(x: Value, causalMask: Value): Value {
    let h = x;
    this.layers.forEach((layer, i) => {
      h = x.graph.scope(`layers.${i}`, () => layer.forward(h, causalMask));
    });
    return h;
  }
}
