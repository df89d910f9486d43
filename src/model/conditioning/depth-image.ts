// Depth maps as images, in the convention FLUX.1 Depth's preprocessor (MiDaS / Depth Anything)
// hands the model: inverse depth in [0, 1], near = 1 = white, as a grey 3-channel picture.

import type { RgbImage } from '../backend.ts';

/** Grey levels round(255·d) (d clamped to [0, 1]) in all three channels. */
export function depthToImage(depth: Float32Array, width: number, height: number): RgbImage {
  if (depth.length !== width * height) throw new Error(`depth has ${depth.length} values, not ${width}x${height}`);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < depth.length; i++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, depth[i]!)));
    data[i * 3] = v;
    data[i * 3 + 1] = v;
    data[i * 3 + 2] = v;
  }
  return { width, height, data };
}

/** The mean of the three channels over 255, per pixel. */
export function imageToDepth(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  if (img.data.length !== n * 3) throw new Error(`image data has ${img.data.length} bytes, not ${img.width}x${img.height}x3`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (img.data[i * 3]! + img.data[i * 3 + 1]! + img.data[i * 3 + 2]!) / 765;
  return out;
}
