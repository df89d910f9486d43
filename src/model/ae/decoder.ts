// Decoder: conv_in from z_channels to the widest level, mid, then the levels from lowest to
// highest resolution, each `up.{i}` with num_res_blocks + 1 ResnetBlocks (`up.{i}.block.{j}`) and
// an Upsample except at level 0, then norm_out, swish and conv_out to out_ch. BFL builds `up` in
// reverse and prepends, so index i is the level of ch_mult[i] — the keys say `up.{i}` for the
// level whose width is ch·ch_mult[i], whatever order they run in.

import type { Value } from '../../engine/graph.ts';
import type { AutoEncoderParams } from './config.ts';
import { Conv2d } from './conv2d.ts';
import { GroupNorm, swish } from './group-norm.ts';
import { Mid } from './mid.ts';
import type { AeParamStore } from './params.ts';
import { ResnetBlock } from './resnet-block.ts';
import { Upsample } from './upsample.ts';

interface UpLevel {
  blocks: ResnetBlock[];
  upsample: Upsample | undefined;
}

export class Decoder {
  readonly convIn: Conv2d;
  readonly mid: Mid;
  /** Indexed like the checkpoint: up[i] is the level of ch_mult[i]. */
  readonly up: UpLevel[];
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(store: AeParamStore, path: string, p: AutoEncoderParams) {
    let width = p.ch * p.ch_mult[p.ch_mult.length - 1]!;
    this.convIn = new Conv2d(store, `${path}.conv_in`, p.z_channels, width, 3, { padding: 1 });
    this.mid = new Mid(store, `${path}.mid`, width);
    this.up = new Array<UpLevel>(p.ch_mult.length);
    // Declared in BFL's construction order (lowest resolution first) so the key order matches.
    for (let i = p.ch_mult.length - 1; i >= 0; i--) {
      const level = `${path}.up.${i}`;
      const blocks: ResnetBlock[] = [];
      for (let j = 0; j <= p.num_res_blocks; j++) {
        blocks.push(new ResnetBlock(store, `${level}.block.${j}`, width, p.ch * p.ch_mult[i]!));
        width = p.ch * p.ch_mult[i]!;
      }
      this.up[i] = { blocks, upsample: i === 0 ? undefined : new Upsample(store, `${level}.upsample`, width) };
    }
    this.normOut = new GroupNorm(store, `${path}.norm_out`, width);
    this.convOut = new Conv2d(store, `${path}.conv_out`, width, p.out_ch, 3, { padding: 1 });
  }

  /** z [B, z_channels, h, w] (unscaled) → image [B, out_ch, h·f, w·f]. */
  forward(z: Value): Value {
    let h = this.mid.forward(this.convIn.forward(z));
    for (let i = this.up.length - 1; i >= 0; i--) {
      const level = this.up[i]!;
      for (const block of level.blocks) h = block.forward(h);
      if (level.upsample) h = level.upsample.forward(h);
    }
    return this.convOut.forward(swish(this.normOut.forward(h)));
  }
}
