// The FLUX.1 flow transformer (BFL's `Flux.forward`), parameter keys identical to BFL's
// checkpoints.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { PositionEmbedding } from './attention.ts';
import { type FluxParams, fluxDims, validateFluxParams } from './config.ts';
import { DoubleStreamBlock } from './double-block.ts';
import { MLPEmbedder, timestepEmbedding } from './embedders.ts';
import { LastLayer } from './last-layer.ts';
import { Linear } from './linear.ts';
import type { ParamStore } from './params.ts';
import { SingleStreamBlock } from './single-block.ts';

export interface FluxInputs {
  /** [B, L_img, in_channels] packed image tokens. */
  img: Value;
  /** [B, L_txt, context_in_dim] text sequence. */
  txt: Value;
  /** [B, vec_in_dim] pooled text vector. */
  y: Value;
  /** [B] t in [0, 1] (1 = noise). */
  timesteps: Value;
  /** [B] distilled guidance; required iff guidance_embed. */
  guidance?: Value;
  /** RoPE tables for the text-then-image token order. */
  pe: PositionEmbedding;
}

export class Flux {
  readonly imgIn: Linear;
  readonly timeIn: MLPEmbedder;
  readonly vectorIn: MLPEmbedder;
  readonly guidanceIn: MLPEmbedder | undefined;
  readonly txtIn: Linear;
  readonly doubleBlocks: DoubleStreamBlock[] = [];
  readonly singleBlocks: SingleStreamBlock[] = [];
  readonly finalLayer: LastLayer;

  constructor(
    readonly params: FluxParams,
    readonly store: ParamStore,
  ) {
    validateFluxParams(params);
    const { hidden: H, heads, mlpHidden: M } = fluxDims(params);
    this.imgIn = new Linear(store, 'img_in', params.in_channels, H);
    this.timeIn = new MLPEmbedder(store, 'time_in', 256, H);
    this.vectorIn = new MLPEmbedder(store, 'vector_in', params.vec_in_dim, H);
    this.guidanceIn = params.guidance_embed ? new MLPEmbedder(store, 'guidance_in', 256, H) : undefined;
    this.txtIn = new Linear(store, 'txt_in', params.context_in_dim, H);
    for (let i = 0; i < params.depth; i++) {
      this.doubleBlocks.push(new DoubleStreamBlock(store, `double_blocks.${i}`, H, heads, M, params.qkv_bias));
    }
    for (let i = 0; i < params.depth_single_blocks; i++) {
      this.singleBlocks.push(new SingleStreamBlock(store, `single_blocks.${i}`, H, heads, M));
    }
    this.finalLayer = new LastLayer(store, 'final_layer', H, params.out_channels);
  }

  /** The predicted velocity [B, L_img, out_channels]. */
  forward(x: FluxInputs): Value {
    const g = x.img.graph;
    let img = g.scope('img_in', () => this.imgIn.forward(x.img));
    let vec = g.scope('time_in', () => this.timeIn.forward(timestepEmbedding(x.timesteps, 256)));
    if (this.guidanceIn) {
      if (!x.guidance) throw new Error('Flux: this config has guidance_embed, so a guidance input is required');
      const gIn = this.guidanceIn;
      vec = F.add(
        vec,
        g.scope('guidance_in', () => gIn.forward(timestepEmbedding(x.guidance!, 256))),
      );
    }
    vec = F.add(
      vec,
      g.scope('vector_in', () => this.vectorIn.forward(x.y)),
    );
    let txt = g.scope('txt_in', () => this.txtIn.forward(x.txt));
    // Every Modulation and the final adaLN apply SiLU to vec; do it once for all of them.
    const vecAct = F.silu(vec);

    for (const block of this.doubleBlocks) {
      [img, txt] = g.scope(block.path, () => block.forward(img, txt, vecAct, x.pe));
    }
    const txtTokens = txt.shape[1]!;
    let seq = F.concat([txt, img], 1);
    for (const block of this.singleBlocks) {
      seq = g.scope(block.path, () => block.forward(seq, vecAct, x.pe));
    }
    img = F.slice(seq, 1, txtTokens, seq.shape[1]!);
    return g.scope('final_layer', () => this.finalLayer.forward(img, vecAct));
  }
}
