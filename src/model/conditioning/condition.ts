// The conditioning of FLUX.1 Canny, Depth and Fill (BFL sampling.py `prepare_control`,
// `prepare_fill`): an image condition is encoded like the image itself and packed into tokens; the
// model sees it joined after the noisy latents on the channel axis (sampler.ts `imgCond`).
// `encode` is the model's image codec: flux-mini's is the identity on pixels (factor 1, p = 8),
// FLUX.1's the autoencoder (factor 8, p = 2).

import type { RgbImage } from '../backend.ts';
import { pack } from './pack.ts';

/** RGB bytes → [3, H, W] in [−1, 1], the layout `ImageCodec.encode` takes. */
export function imageToChw(img: RgbImage): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = img.data[i * 3 + c]! / 127.5 - 1;
  return out;
}

export interface ImageCodec {
  /** [3, H, W] in [−1, 1] → latents [C, H/f, W/f]. */
  encode(image: Float32Array, height: number, width: number): Float32Array | Promise<Float32Array>;
  /** Latent channels C. */
  channels: number;
  /** Spatial downsampling f. */
  factor: number;
  /** Packing patch p. */
  patch: number;
}

/** flux-mini's codec: pixels are the latents. */
export const pixelCodec = (patch: number): ImageCodec => ({ encode: (image) => image, channels: 3, factor: 1, patch });

/** Canny / depth: the (already preprocessed) control image [3, H, W] in [−1, 1], encoded and packed. */
export async function prepareControl(codec: ImageCodec, control: Float32Array, height: number, width: number): Promise<Float32Array> {
  const z = await codec.encode(control, height, width);
  return pack(z, codec.channels, height / codec.factor, width / codec.factor, codec.patch);
}

/**
 * BFL's fill mask: `rearrange(mask, "b (h ph) (w pw) -> b (ph pw) h w", ph=f, pw=f)` puts each f×f
 * pixel block of the mask on the channel axis at latent resolution, then `pack` as the latents.
 * `mask` is [H, W], 1 = repaint.
 */
export function packFillMask(mask: ArrayLike<number>, height: number, width: number, factor: number, patch: number): Float32Array {
  const h = height / factor;
  const w = width / factor;
  const f2 = factor * factor;
  const chw = new Float32Array(f2 * h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let py = 0; py < factor; py++) {
        for (let px = 0; px < factor; px++) chw[((py * factor + px) * h + y) * w + x] = mask[(y * factor + py) * width + x * factor + px]!;
      }
    }
  }
  return pack(chw, f2, h, w, patch);
}

/** Fill: `cat(pack(encode(image·(1 − mask))), packFillMask(mask))` per token. `image` [3, H, W] in [−1, 1], `mask` [H, W]. */
export async function prepareFill(codec: ImageCodec, image: Float32Array, mask: ArrayLike<number>, height: number, width: number): Promise<Float32Array> {
  const plane = height * width;
  const masked = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) masked[i] = image[i]! * (1 - mask[i % plane]!);
  const latents = pack(await codec.encode(masked, height, width), codec.channels, height / codec.factor, width / codec.factor, codec.patch);
  const packedMask = packFillMask(mask, height, width, codec.factor, codec.patch);
  const tokens = (height / codec.factor / codec.patch) * (width / codec.factor / codec.patch);
  const a = latents.length / tokens;
  const b = packedMask.length / tokens;
  const out = new Float32Array(tokens * (a + b));
  for (let n = 0; n < tokens; n++) {
    out.set(latents.subarray(n * a, (n + 1) * a), n * (a + b));
    out.set(packedMask.subarray(n * b, (n + 1) * b), n * (a + b) + a);
  }
  return out;
}

/** Channels a condition adds to the model input. */
export function conditionChannels(kind: 'canny' | 'depth' | 'fill', codec: Pick<ImageCodec, 'channels' | 'factor' | 'patch'>): number {
  const latent = codec.channels * codec.patch ** 2;
  return kind === 'fill' ? latent + codec.factor ** 2 * codec.patch ** 2 : latent;
}
