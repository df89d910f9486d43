// nn.Linear under `<path>.weight` [out, in] and, when it has one, `<path>.bias` [out].
// T5's projections have no bias; CLIP's all do.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { TextParamStore } from './params.ts';

export class Linear {
  readonly weight: Value;
  readonly bias: Value | undefined;

  constructor(store: TextParamStore, path: string, inFeatures: number, outFeatures: number, hasBias: boolean) {
    this.weight = store.param(`${path}.weight`, [outFeatures, inFeatures]);
    this.bias = hasBias ? store.param(`${path}.bias`, [outFeatures]) : undefined;
  }

  forward(x: Value): Value {
    return F.linear(x, this.weight, this.bias);
  }
}
