// The canny, depth and fill requests on flux-mini: the request's image becomes the condition tokens
// at the model's token grid (resized, then preprocessed there, as BFL's `prepare_control` resizes
// before its Canny/Depth encoder runs), and the sample goes back to the requested size. Fill keeps
// every unmasked pixel of the user's image exactly: the model's output, its colours first matched
// to the kept pixels around the mask (seamless.ts), is blended in by the mask at the input resolution.

import sharp from 'sharp';
import type { RgbImage, StructuralControl } from '../backend.ts';
import { stretchImage, type TokenGrid } from '../codec/patches.ts';
import { imageToChw, pixelCodec, prepareControl, prepareFill } from '../conditioning/condition.ts';
import { harmonicFill } from '../conditioning/seamless.ts';

/** What turns a photo into the map a variant follows. */
export interface Preprocessors {
  canny(img: RgbImage, low: number, high: number): RgbImage;
  depth(img: RgbImage): Promise<RgbImage>;
}

async function resizeMask(mask: Uint8Array, from: { width: number; height: number }, width: number, height: number): Promise<Float32Array> {
  const data =
    from.width === width && from.height === height
      ? mask
      : await sharp(mask, { raw: { width: from.width, height: from.height, channels: 1 } })
          .resize(width, height, { fit: 'fill', kernel: 'linear' })
          .extractChannel(0)
          .raw()
          .toBuffer();
  return Float32Array.from(data, (v) => v / 255);
}

/** The condition tokens [L, in_channels − out_channels] of a request on `grid`. */
export async function conditionTokens(control: StructuralControl, grid: TokenGrid, pre: Preprocessors): Promise<Float32Array> {
  const width = grid.cols * grid.patch;
  const height = grid.rows * grid.patch;
  const codec = pixelCodec(grid.patch);
  const image = await stretchImage(control.image, width, height);
  switch (control.kind) {
    case 'canny': {
      const edges = control.preprocessed ? image : pre.canny(image, control.lowThreshold, control.highThreshold);
      return prepareControl(codec, imageToChw(edges), height, width);
    }
    case 'depth': {
      const depth = control.preprocessed ? image : await pre.depth(image);
      return prepareControl(codec, imageToChw(depth), height, width);
    }
    case 'fill': {
      const mask = await resizeMask(control.mask, control.image, width, height);
      return prepareFill(codec, imageToChw(image), mask, height, width);
    }
  }
}

/** The sample at the requested size; for fill, the user's pixels wherever the mask keeps them. */
export async function structuralOutput(sample: RgbImage, control: StructuralControl, width: number, height: number): Promise<RgbImage> {
  if (control.kind !== 'fill') return stretchImage(sample, width, height);
  const { image, mask } = control;
  if (image.width !== width || image.height !== height) throw new Error(`fill: the image is ${image.width}×${image.height}, the request ${width}×${height}`);
  const out = await stretchImage(await matchSurroundings(sample, image, mask), width, height);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const m = mask[i]! / 255;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(image.data[i * 3 + c]! * (1 - m) + out.data[i * 3 + c]! * m);
  }
  return { width, height, data };
}

/** The sample plus the user's image − sample, known on the kept pixels, continued harmonically under the mask. */
async function matchSurroundings(sample: RgbImage, image: RgbImage, mask: Uint8Array): Promise<RgbImage> {
  const { width, height } = sample;
  const user = await stretchImage(image, width, height);
  const repaint = await resizeMask(mask, image, width, height);
  const kept = Uint8Array.from(repaint, (m) => (m === 0 ? 1 : 0));
  const difference = Float32Array.from(sample.data, (v, i) => user.data[i]! - v);
  const correction = harmonicFill(difference, kept, width, height, 3);
  const data = Uint8Array.from(sample.data, (v, i) => Math.max(0, Math.min(255, Math.round(v + correction[i]!))));
  return { width, height, data };
}
