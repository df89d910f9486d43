// Downsample: BFL pads (left 0, right 1, top 0, bottom 1) with zeros, then a 3×3 stride-2 conv
// without padding: conv2d's [top, left, bottom, right] = [0, 0, 1, 1], which it emits as that
// same zero Pad followed by an unpadded Conv.

import type { Value } from '../../engine/graph.ts';
import { Conv2d } from './conv2d.ts';
import type { AeParamStore } from './params.ts';

export class Downsample {
  readonly conv: Conv2d;

  constructor(store: AeParamStore, path: string, channels: number) {
    this.conv = new Conv2d(store, `${path}.conv`, channels, channels, 3, { stride: 2, padding: [0, 0, 1, 1] });
  }

  forward(x: Value): Value {
    return this.conv.forward(x);
  }
}
