// The `mid` module both halves share at the lowest resolution: ResnetBlock, AttnBlock, ResnetBlock
// (`mid.block_1`, `mid.attn_1`, `mid.block_2`).

import type { Value } from '../../engine/graph.ts';
import { AttnBlock } from './attn-block.ts';
import type { AeParamStore } from './params.ts';
import { ResnetBlock } from './resnet-block.ts';

export class Mid {
  readonly block1: ResnetBlock;
  readonly attn1: AttnBlock;
  readonly block2: ResnetBlock;

  constructor(store: AeParamStore, path: string, channels: number) {
    this.block1 = new ResnetBlock(store, `${path}.block_1`, channels, channels);
    this.attn1 = new AttnBlock(store, `${path}.attn_1`, channels);
    this.block2 = new ResnetBlock(store, `${path}.block_2`, channels, channels);
  }

  forward(x: Value): Value {
    return this.block2.forward(this.attn1.forward(this.block1.forward(x)));
  }
}
