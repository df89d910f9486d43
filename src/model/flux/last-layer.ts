// BFL's final_layer: adaLN (shift first, then scale — diffusers' norm_out stores them swapped),
// then a Linear to the output channels.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { Linear } from './linear.ts';
import { modulatedNorm } from './modulation.ts';
import type { ParamStore } from './params.ts';

export class LastLayer {
  /** `adaLN_modulation` is Sequential(SiLU, Linear): the Linear is entry 1. */
  readonly adaLN: Linear;
  readonly linear: Linear;

  constructor(store: ParamStore, path: string, hidden: number, outChannels: number) {
    this.adaLN = new Linear(store, `${path}.adaLN_modulation.1`, hidden, 2 * hidden);
    this.linear = new Linear(store, `${path}.linear`, hidden, outChannels);
  }

  /** `vecAct` is SiLU(vec). */
  forward(x: Value, vecAct: Value): Value {
    const H = this.adaLN.inFeatures;
    const [shift, scale] = F.split(F.unsqueeze(this.adaLN.forward(vecAct), 1), [H, H], -1) as [Value, Value];
    return this.linear.forward(modulatedNorm(x, { shift, scale }));
  }
}
