// ResnetBlock: norm1 → swish → conv1 (3×3) → norm2 → swish → conv2 (3×3), added to the input,
// which goes through a 1×1 `nin_shortcut` when the width changes. No dropout, no time embedding
// (BFL's AE has neither).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { Conv2d } from './conv2d.ts';
import { GroupNorm, swish } from './group-norm.ts';
import type { AeParamStore } from './params.ts';

export class ResnetBlock {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly ninShortcut: Conv2d | undefined;

  constructor(store: AeParamStore, path: string, inChannels: number, outChannels: number) {
    this.norm1 = new GroupNorm(store, `${path}.norm1`, inChannels);
    this.conv1 = new Conv2d(store, `${path}.conv1`, inChannels, outChannels, 3, { padding: 1 });
    this.norm2 = new GroupNorm(store, `${path}.norm2`, outChannels);
    this.conv2 = new Conv2d(store, `${path}.conv2`, outChannels, outChannels, 3, { padding: 1 });
    this.ninShortcut = inChannels === outChannels ? undefined : new Conv2d(store, `${path}.nin_shortcut`, inChannels, outChannels, 1);
  }

  forward(x: Value): Value {
    const h = this.conv2.forward(swish(this.norm2.forward(this.conv1.forward(swish(this.norm1.forward(x))))));
    return F.add(this.ninShortcut ? this.ninShortcut.forward(x) : x, h);
  }
}
