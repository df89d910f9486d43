// What the captioner can measure of an image without knowing what it shows: whether its border is
// one plain colour (and which named colour), and where the foreground sits. The foreground is every
// pixel far from the border's median colour, the same rule as the novel-concept benchmark's
// silhouettes (issue 10).

import type { RgbImage } from '../backend.ts';
import { COLORS } from './caption-vocabulary.ts';

/** Per-channel median of the pixels within `margin` of the border. */
export function medianBorderColour(img: RgbImage, margin = 0.06): [number, number, number] {
  const m = Math.max(1, Math.round(Math.min(img.width, img.height) * margin));
  const hist = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  let n = 0;
  forBorder(img, m, (i) => {
    for (let c = 0; c < 3; c++) hist[c]![img.data[i + c]!]!++;
    n++;
  });
  const median = (h: Uint32Array) => {
    let acc = 0;
    for (let v = 0; v < 256; v++) {
      acc += h[v]!;
      if (acc * 2 >= n) return v;
    }
    return 255;
  };
  return [median(hist[0]!), median(hist[1]!), median(hist[2]!)];
}

function forBorder(img: RgbImage, m: number, visit: (i: number) => void): void {
  for (let y = 0; y < img.height; y++) {
    const edgeRow = y < m || y >= img.height - m;
    for (let x = 0; x < img.width; x++) if (edgeRow || x < m || x >= img.width - m) visit((y * img.width + x) * 3);
  }
}

const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

/** A pixel is foreground when it is this far (RGB Euclidean) from the border's median colour. */
export const FOREGROUND_DISTANCE = 60;
/** The border counts as a plain background when this share of it lies within FOREGROUND_DISTANCE / 2 of its median. */
const PLAIN_SHARE = 0.85;
/** …and its median is this close to a named colour (the named colours are ~100 apart). */
const NAMED_DISTANCE = 70;

/** The border's named colour when the border is plain and near one; null for busy or unnamed backgrounds (photos). */
export function plainBackground(img: RgbImage): string | null {
  const med = medianBorderColour(img);
  const m = Math.max(1, Math.round(Math.min(img.width, img.height) * 0.06));
  let near = 0;
  let n = 0;
  forBorder(img, m, (i) => {
    if (distance([img.data[i]!, img.data[i + 1]!, img.data[i + 2]!], med) <= FOREGROUND_DISTANCE / 2) near++;
    n++;
  });
  if (near < PLAIN_SHARE * n) return null;
  let best: string | null = null;
  let bestD = NAMED_DISTANCE;
  for (const [name, rgb] of Object.entries(COLORS)) {
    const d = distance(rgb, med);
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}

export interface ForegroundBox {
  /** Centre and size as fractions of the image's width and height. */
  cx: number;
  cy: number;
  width: number;
  height: number;
  /** Share of the image's pixels that are foreground. */
  coverage: number;
}

/** The bounding box of the pixels far from the border's median colour; null when there are hardly any. */
export function foregroundBox(img: RgbImage): ForegroundBox | null {
  const med = medianBorderColour(img);
  let [x0, y0, x1, y1, count] = [img.width, img.height, -1, -1, 0];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 3;
      if (distance([img.data[i]!, img.data[i + 1]!, img.data[i + 2]!], med) <= FOREGROUND_DISTANCE) continue;
      count++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (count < 0.01 * img.width * img.height) return null;
  return {
    cx: (x0 + x1 + 1) / 2 / img.width,
    cy: (y0 + y1 + 1) / 2 / img.height,
    width: (x1 - x0 + 1) / img.width,
    height: (y1 - y0 + 1) / img.height,
    coverage: count / (img.width * img.height),
  };
}

/** The pretraining captions' layout words: a subject this far off centre is "on the left" etc. */
const OFF_CENTRE = 0.14;

/** "on the left" / "on the right" / "at the top" / "at the bottom", or null when the subject is about centred. */
export function positionPhrase(box: ForegroundBox): string | null {
  const dx = box.cx - 0.5;
  const dy = box.cy - 0.5;
  if (Math.max(Math.abs(dx), Math.abs(dy)) < OFF_CENTRE) return null;
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 'on the left' : 'on the right';
  return dy < 0 ? 'at the top' : 'at the bottom';
}
