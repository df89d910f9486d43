// AttnBlock: single-head self-attention over the H·W pixels of the lowest resolution, with 1×1
// convolutions as q/k/v/proj_out and a residual. Scores are scaled by 1/√C (scaled_dot_product_
// attention's default, C = the channel count, one head).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { Conv2d } from './conv2d.ts';
import { GroupNorm } from './group-norm.ts';
import type { AeParamStore } from './params.ts';

export class AttnBlock {
  readonly norm: GroupNorm;
  readonly q: Conv2d;
  readonly k: Conv2d;
  readonly v: Conv2d;
  readonly projOut: Conv2d;

  constructor(store: AeParamStore, path: string, channels: number) {
    this.norm = new GroupNorm(store, `${path}.norm`, channels);
    this.q = new Conv2d(store, `${path}.q`, channels, channels, 1);
    this.k = new Conv2d(store, `${path}.k`, channels, channels, 1);
    this.v = new Conv2d(store, `${path}.v`, channels, channels, 1);
    this.projOut = new Conv2d(store, `${path}.proj_out`, channels, channels, 1);
  }

  forward(x: Value): Value {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const hn = this.norm.forward(x);
    // b c h w -> b (h w) c for q and v; k stays b c (h w), which is kᵀ for the scores.
    const tokens = (t: Value) => F.transpose(F.reshape(t, [b, c, h * w]), [0, 2, 1]);
    const q = tokens(this.q.forward(hn));
    const kT = F.reshape(this.k.forward(hn), [b, c, h * w]);
    const v = tokens(this.v.forward(hn));
    const attn = F.softmax(F.mul(F.matmul(q, kT), 1 / Math.sqrt(c)), -1);
    // b (h w) c -> b c h w
    const out = F.reshape(F.transpose(F.matmul(attn, v), [0, 2, 1]), [b, c, h, w]);
    return F.add(x, this.projOut.forward(out));
  }
}
