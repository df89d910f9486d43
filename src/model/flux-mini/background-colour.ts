// Reading an image's background colour as one of the vocabulary's named colours: the mean of the
// border pixels (where a centred object leaves the background showing), then the nearest name.

import type { RgbImage } from '../backend.ts';
import { COLORS } from './caption-vocabulary.ts';

/** Mean RGB of the pixels near the image border (where the background shows). */
export function borderColour(img: RgbImage, margin = 0.1): [number, number, number] {
  const m = Math.max(1, Math.round(Math.min(img.width, img.height) * margin));
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (x >= m && x < img.width - m && y >= m && y < img.height - m) continue;
      const i = (y * img.width + x) * 3;
      for (let c = 0; c < 3; c++) sum[c]! += img.data[i + c]!;
      n++;
    }
  }
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

export function nearestColour(rgb: readonly number[]): string {
  let best = 'gray';
  let bestD = Infinity;
  for (const [name, c] of Object.entries(COLORS)) {
    const d = (c[0] - rgb[0]!) ** 2 + (c[1] - rgb[1]!) ** 2 + (c[2] - rgb[2]!) ** 2;
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return best;
}
