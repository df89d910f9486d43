// Encoder: conv_in, then per resolution level `down.{i}` num_res_blocks ResnetBlocks
// (`down.{i}.block.{j}`, widening ch·in_ch_mult[i] → ch·ch_mult[i] in the first) and a
// Downsample except after the last level, then mid, norm_out, swish and conv_out to the
// 2·z_channels moments (mean ‖ logvar). BFL's `down.{i}.attn` lists are always empty: no keys.

import type { Value } from '../../engine/graph.ts';
import type { AutoEncoderParams } from './config.ts';
import { Conv2d } from './conv2d.ts';
import { Downsample } from './downsample.ts';
import { GroupNorm, swish } from './group-norm.ts';
import { Mid } from './mid.ts';
import type { AeParamStore } from './params.ts';
import { ResnetBlock } from './resnet-block.ts';

interface DownLevel {
  blocks: ResnetBlock[];
  downsample: Downsample | undefined;
}

export class Encoder {
  readonly convIn: Conv2d;
  readonly down: DownLevel[] = [];
  readonly mid: Mid;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(store: AeParamStore, path: string, p: AutoEncoderParams) {
    this.convIn = new Conv2d(store, `${path}.conv_in`, p.in_channels, p.ch, 3, { padding: 1 });
    const inMult = [1, ...p.ch_mult];
    let width = p.ch;
    p.ch_mult.forEach((mult, i) => {
      const level = `${path}.down.${i}`;
      width = p.ch * inMult[i]!;
      const blocks: ResnetBlock[] = [];
      for (let j = 0; j < p.num_res_blocks; j++) {
        blocks.push(new ResnetBlock(store, `${level}.block.${j}`, width, p.ch * mult));
        width = p.ch * mult;
      }
      const last = i === p.ch_mult.length - 1;
      this.down.push({ blocks, downsample: last ? undefined : new Downsample(store, `${level}.downsample`, width) });
    });
    this.mid = new Mid(store, `${path}.mid`, width);
    this.normOut = new GroupNorm(store, `${path}.norm_out`, width);
    this.convOut = new Conv2d(store, `${path}.conv_out`, width, 2 * p.z_channels, 3, { padding: 1 });
  }

  /** Image [B, in_channels, H, W] → moments [B, 2·z_channels, H/f, W/f]. */
  forward(x: Value): Value {
    let h = this.convIn.forward(x);
    for (const level of this.down) {
      for (const block of level.blocks) h = block.forward(h);
      if (level.downsample) h = level.downsample.forward(h);
    }
    h = this.mid.forward(h);
    return this.convOut.forward(swish(this.normOut.forward(h)));
  }
}
