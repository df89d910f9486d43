// Upsample: nearest-neighbour ×2, then a 3×3 conv with padding 1.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { Conv2d } from './conv2d.ts';
import type { AeParamStore } from './params.ts';

export class Upsample {
  readonly conv: Conv2d;

  constructor(store: AeParamStore, path: string, channels: number) {
    this.conv = new Conv2d(store, `${path}.conv`, channels, channels, 3, { padding: 1 });
  }

  forward(x: Value): Value {
    return this.conv.forward(F.upsampleNearest(x, 2));
  }
}
