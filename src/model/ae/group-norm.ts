// nn.GroupNorm(32, C, eps=1e-6, affine=True): `<path>.weight` and `<path>.bias`, each [C].

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { AE_NORM_EPS, AE_NORM_GROUPS } from './config.ts';
import type { AeParamStore } from './params.ts';

export class GroupNorm {
  readonly weight: Value;
  readonly bias: Value;

  constructor(store: AeParamStore, path: string, channels: number) {
    this.weight = store.param(`${path}.weight`, [channels]);
    this.bias = store.param(`${path}.bias`, [channels]);
  }

  forward(x: Value): Value {
    return F.groupNorm(x, AE_NORM_GROUPS, this.weight, this.bias, AE_NORM_EPS);
  }
}

/** BFL's `swish`: x · sigmoid(x). */
export const swish = F.silu;
