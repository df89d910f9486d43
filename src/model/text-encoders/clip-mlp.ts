// CLIPMLP (modeling_clip.py): fc2(act(fc1 x)), act = ACT2FN[hidden_act] = quick_gelu for CLIP-L.

import type { Value } from '../../engine/graph.ts';
import { activation } from './activations.ts';
import type { ClipTextConfig } from './config.ts';
import { Linear } from './linear.ts';
import type { TextParamStore } from './params.ts';

export class ClipMlp {
  readonly fc1: Linear;
  readonly fc2: Linear;
  private readonly act: (x: Value) => Value;

  constructor(store: TextParamStore, path: string, config: ClipTextConfig) {
    this.fc1 = new Linear(store, `${path}.fc1`, config.hidden_size, config.intermediate_size, true);
    this.fc2 = new Linear(store, `${path}.fc2`, config.intermediate_size, config.hidden_size, true);
    this.act = activation(config.hidden_act);
  }

  forward(x: Value): Value {
    return this.fc2.forward(this.act(this.fc1.forward(x)));
  }
}
