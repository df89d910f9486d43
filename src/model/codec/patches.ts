// The flux-mini image codec: pixels packed straight into tokens, p×p×3 patches with channel-major
// features (feature = c·p² + dy·p + dx, as FLUX packs its latents). It costs no FLOPs and loses
// nothing, so the transformer's whole budget goes to denoising (see the model card for the
// comparison with a learned autoencoder).

import sharp from 'sharp';
import type { RgbImage } from '../backend.ts';

export interface TokenGrid {
  rows: number;
  cols: number;
  patch: number;
}

export function gridFor(width: number, height: number, patch: number): TokenGrid {
  if (width % patch || height % patch) throw new Error(`${width}x${height} is not a multiple of the ${patch}px patch`);
  return { rows: height / patch, cols: width / patch, patch };
}

/** [rows·cols, 3·p²] tokens with values in [−1, 1]. */
export function imageToTokens(img: RgbImage, patch: number): Float32Array {
  const { rows, cols } = gridFor(img.width, img.height, patch);
  const f = 3 * patch * patch;
  const out = new Float32Array(rows * cols * f);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const base = (r * cols + c) * f;
      for (let dy = 0; dy < patch; dy++) {
        for (let dx = 0; dx < patch; dx++) {
          const px = ((r * patch + dy) * img.width + c * patch + dx) * 3;
          for (let ch = 0; ch < 3; ch++) out[base + ch * patch * patch + dy * patch + dx] = img.data[px + ch]! / 127.5 - 1;
        }
      }
    }
  }
  return out;
}

export function tokensToImage(tokens: ArrayLike<number>, grid: TokenGrid): RgbImage {
  const { rows, cols, patch } = grid;
  const width = cols * patch;
  const height = rows * patch;
  const f = 3 * patch * patch;
  const data = new Uint8Array(width * height * 3);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const base = (r * cols + c) * f;
      for (let dy = 0; dy < patch; dy++) {
        for (let dx = 0; dx < patch; dx++) {
          const px = ((r * patch + dy) * width + c * patch + dx) * 3;
          for (let ch = 0; ch < 3; ch++) {
            const v = tokens[base + ch * patch * patch + dy * patch + dx]!;
            data[px + ch] = Math.max(0, Math.min(255, Math.round((Math.max(-1, Math.min(1, v)) + 1) * 127.5)));
          }
        }
      }
    }
  }
  return { width, height, data };
}

/** FLUX image position ids: (0, row, col) per token, row-major. */
export function imageIds(grid: TokenGrid): Float32Array {
  const ids = new Float32Array(grid.rows * grid.cols * 3);
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      ids[(r * grid.cols + c) * 3 + 1] = r;
      ids[(r * grid.cols + c) * 3 + 2] = c;
    }
  }
  return ids;
}

/** Centre-crops to the target aspect and resizes (Lanczos), as training and img2img inputs need. */
export async function fitImage(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data) };
}

/**
 * Resizes with the aspect ratio free (a token bucket's differs from the image's by a few %): unlike
 * `fitImage` nothing is cropped, so a condition, its output and the request stay pixel-aligned.
 */
export async function stretchImage(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data) };
}

/** The token grid closest to the image's aspect ratio with about `tokens` tokens. */
export function bucketFor(width: number, height: number, tokens: number, patch: number): TokenGrid {
  const aspect = width / height;
  let best: TokenGrid = { rows: 1, cols: 1, patch };
  let bestScore = Infinity;
  for (let rows = 4; rows <= tokens; rows++) {
    const cols = Math.max(4, Math.round(tokens / rows));
    if (rows * cols > tokens * 1.1) continue;
    const score = Math.abs(Math.log(cols / rows / aspect)) + Math.abs(Math.log((rows * cols) / tokens));
    if (score < bestScore) {
      bestScore = score;
      best = { rows, cols, patch };
    }
  }
  return best;
}
