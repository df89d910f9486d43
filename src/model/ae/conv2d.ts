// nn.Conv2d with bias, as every AE convolution is: weight [out, in, k, k] under `<path>.weight`.

import { type Conv2dOptions, conv2d } from '../../engine/conv.ts';
import type { Value } from '../../engine/graph.ts';
import type { AeParamStore } from './params.ts';

export class Conv2d {
  readonly weight: Value;
  readonly bias: Value;

  constructor(
    store: AeParamStore,
    readonly path: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    private readonly options: Conv2dOptions = {},
  ) {
    this.weight = store.param(`${path}.weight`, [outChannels, inChannels, kernel, kernel]);
    this.bias = store.param(`${path}.bias`, [outChannels]);
  }

  forward(x: Value): Value {
    return conv2d(x, this.weight, this.bias, this.options);
  }
}
