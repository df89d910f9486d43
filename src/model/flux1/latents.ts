// The shapes of FLUX.1's latent space (BFL sampling.py `get_noise`, `prepare`, `unpack`): the
// autoencoder's 16 channels at 1/8 of the image size, rounded up to an even size so 2×2 packing
// tiles it — `get_noise` draws [n, 16, 2·⌈H/16⌉, 2·⌈W/16⌉] — and position ids (0, row, col) per
// packed token.

import { seededNoise } from '../sampling/noise.ts';

/** Latent channels × packing patch = the flow model's out_channels (64 for FLUX.1). */
export const PACK = 2;

export interface LatentGrid {
  /** latent channels C */
  channels: number;
  /** latent height/width (even) */
  height: number;
  width: number;
  /** packed token grid = latent / 2 */
  rows: number;
  cols: number;
}

/**
 * `get_noise`'s latent size for an image of `height`×`width` pixels with an autoencoder of spatial
 * factor `factor` (8 for FLUX.1): 2·⌈H / (2·factor)⌉ per side.
 */
export function latentGrid(height: number, width: number, channels = 16, factor = 8): LatentGrid {
  if (!(height > 0 && width > 0)) throw new Error(`latentGrid: ${width}×${height} is not an image size`);
  const rows = Math.ceil(height / (PACK * factor));
  const cols = Math.ceil(width / (PACK * factor));
  return { channels, height: rows * PACK, width: cols * PACK, rows, cols };
}

/** Seeded N(0, 1) latents [C, h, w] for one sample (the distribution of torch.randn, not its values). */
export function latentNoise(grid: LatentGrid, seed: number): Float32Array {
  return seededNoise(seed, grid.channels * grid.height * grid.width);
}

/** `prepare`'s img_ids for one sample: [rows·cols, 3] = (0, row, col). */
export function latentImageIds(grid: Pick<LatentGrid, 'rows' | 'cols'>): Float32Array {
  const ids = new Float32Array(grid.rows * grid.cols * 3);
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      ids[(r * grid.cols + c) * 3 + 1] = r;
      ids[(r * grid.cols + c) * 3 + 2] = c;
    }
  }
  return ids;
}
