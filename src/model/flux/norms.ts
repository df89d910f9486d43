// QK normalisation: RMSNorm over the head dim with a learnable parameter named `scale`
// (not `weight`), one for queries and one for keys.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { ParamStore } from './params.ts';

export class RMSNorm {
  readonly scale: Value;

  constructor(store: ParamStore, path: string, dim: number) {
    this.scale = store.param(`${path}.scale`, [dim]);
  }

  forward(x: Value): Value {
    return F.rmsNorm(x, this.scale, 1e-6);
  }
}

export class QKNorm {
  readonly queryNorm: RMSNorm;
  readonly keyNorm: RMSNorm;

  constructor(store: ParamStore, path: string, dim: number) {
    this.queryNorm = new RMSNorm(store, `${path}.query_norm`, dim);
    this.keyNorm = new RMSNorm(store, `${path}.key_norm`, dim);
  }

  forward(q: Value, k: Value): [Value, Value] {
    return [this.queryNorm.forward(q), this.keyNorm.forward(k)];
  }
}
