// Turns one batch of plain arrays into the feeds of a FLUX graph, including the RoPE tables
// computed from the position ids.

import type { DType } from '../../engine/dtype.ts';
import type { Feeds } from '../../engine/session.ts';
import { asDType } from '../tensors.ts';
import { FLUX_INPUT, type FluxShape } from './build.ts';
import type { FluxParams } from './config.ts';
import { ropeTables } from './rope.ts';

export interface FluxBatch {
  /** [B, L_img, in_channels] */
  img: ArrayLike<number>;
  /** [B, L_img, 3] (0, row, col) */
  imgIds: ArrayLike<number>;
  /** [B, L_txt, context_in_dim] */
  txt: ArrayLike<number>;
  /** [B, L_txt, 3], zeros for FLUX; omitted = zeros. */
  txtIds?: ArrayLike<number>;
  /** [B, vec_in_dim] */
  y: ArrayLike<number>;
  /** [B] */
  timesteps: ArrayLike<number>;
  /** [B]; used only when the config has guidance_embed. */
  guidance?: ArrayLike<number>;
}

/** ids [B, L_txt + L_img, 3] in the model's text-then-image order. */
export function jointIds(shape: FluxShape, imgIds: ArrayLike<number>, txtIds?: ArrayLike<number>): Float64Array {
  const { batch: B, imgTokens: Li, txtTokens: Lt } = shape;
  const ids = new Float64Array(B * (Lt + Li) * 3);
  for (let b = 0; b < B; b++) {
    const base = b * (Lt + Li) * 3;
    if (txtIds) for (let i = 0; i < Lt * 3; i++) ids[base + i] = txtIds[b * Lt * 3 + i]!;
    for (let i = 0; i < Li * 3; i++) ids[base + Lt * 3 + i] = imgIds[b * Li * 3 + i]!;
  }
  return ids;
}

export function fluxFeeds(params: FluxParams, shape: FluxShape, dtype: DType, batch: FluxBatch): Feeds {
  const { batch: B, imgTokens: Li, txtTokens: Lt } = shape;
  const pe = ropeTables(jointIds(shape, batch.imgIds, batch.txtIds), B, Lt + Li, params.axes_dim, params.theta);
  const feeds: Feeds = {
    [FLUX_INPUT.img]: asDType(batch.img, dtype),
    [FLUX_INPUT.txt]: asDType(batch.txt, dtype),
    [FLUX_INPUT.y]: asDType(batch.y, dtype),
    [FLUX_INPUT.timesteps]: asDType(batch.timesteps, dtype),
    [FLUX_INPUT.peCos]: asDType(pe.cos, dtype),
    [FLUX_INPUT.peSin]: asDType(pe.sin, dtype),
  };
  if (params.guidance_embed) {
    if (!batch.guidance) throw new Error('fluxFeeds: this config has guidance_embed; pass guidance');
    feeds[FLUX_INPUT.guidance] = asDType(batch.guidance, dtype);
  }
  return feeds;
}
