// Silhouette IoU (issue 10): does a sample have the training images' outline, whatever its colours?
// Foreground = pixels farther than a threshold from the image's median border colour, cropped to its
// bounding box and resized to 32×32; a sample scores its best IoU against any training image.

import type { RgbImage } from '../backend.ts';
import { FOREGROUND_DISTANCE, medianBorderColour } from '../flux-mini/image-layout.ts';

export const SILHOUETTE_SIDE = 32;

/** The foreground mask cropped to its bounding box and resized (box sampling) to 32×32; null when there is no foreground. */
export function silhouette(img: RgbImage, threshold = FOREGROUND_DISTANCE): Uint8Array | null {
  const med = medianBorderColour(img);
  const fg = new Uint8Array(img.width * img.height);
  let [x0, y0, x1, y1] = [img.width, img.height, -1, -1];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = y * img.width + x;
      const d = Math.hypot(img.data[i * 3]! - med[0], img.data[i * 3 + 1]! - med[1], img.data[i * 3 + 2]! - med[2]);
      if (d <= threshold) continue;
      fg[i] = 1;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) return null;
  const [w, h] = [x1 - x0 + 1, y1 - y0 + 1];
  const out = new Uint8Array(SILHOUETTE_SIDE * SILHOUETTE_SIDE);
  for (let sy = 0; sy < SILHOUETTE_SIDE; sy++) {
    for (let sx = 0; sx < SILHOUETTE_SIDE; sx++) {
      const [ya, yb] = [
        y0 + Math.floor((sy * h) / SILHOUETTE_SIDE),
        y0 + Math.max(Math.floor((sy * h) / SILHOUETTE_SIDE) + 1, Math.floor(((sy + 1) * h) / SILHOUETTE_SIDE)),
      ];
      const [xa, xb] = [
        x0 + Math.floor((sx * w) / SILHOUETTE_SIDE),
        x0 + Math.max(Math.floor((sx * w) / SILHOUETTE_SIDE) + 1, Math.floor(((sx + 1) * w) / SILHOUETTE_SIDE)),
      ];
      let on = 0;
      for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) on += fg[y * img.width + x]!;
      out[sy * SILHOUETTE_SIDE + sx] = on * 2 >= (yb - ya) * (xb - xa) ? 1 : 0;
    }
  }
  return out;
}

export function iou(a: Uint8Array | null, b: Uint8Array | null): number {
  if (!a || !b) return 0;
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    union += a[i]! | b[i]!;
  }
  return union ? inter / union : 0;
}

/** Mean over samples of the best IoU against any reference. */
export function silhouetteScore(samples: readonly RgbImage[], references: readonly RgbImage[]): number {
  const refs = references.map((r) => silhouette(r));
  return samples.reduce((t, s) => t + Math.max(...refs.map((r) => iou(silhouette(s), r))), 0) / samples.length;
}

/** The training images' own agreement: mean over each image of its best IoU against the others. */
export function mutualSilhouetteScore(images: readonly RgbImage[]): number {
  const masks = images.map((r) => silhouette(r));
  return masks.reduce((t, m, i) => t + Math.max(...masks.filter((_, j) => j !== i).map((o) => iou(m, o))), 0) / masks.length;
}
