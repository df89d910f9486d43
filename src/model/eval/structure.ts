// Model-independent measures of whether an output follows the structure it was given: edge F1
// between two edge maps with a small localisation tolerance (as the BSDS benchmark matches edges),
// the PSNR of the pixels a fill request keeps, and how hard a fill's outline shows (the colour step
// across the mask's edge).

import type { RgbImage } from '../backend.ts';

/** Share of `from`'s edge pixels with an edge of `to` within `radius` pixels (Chebyshev). */
function matched(from: Uint8Array, to: Uint8Array, width: number, height: number, radius: number): { hits: number; total: number } {
  let hits = 0;
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!from[y * width + x]) continue;
      total++;
      let hit = false;
      for (let dy = -radius; dy <= radius && !hit; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -radius; dx <= radius && !hit; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width && to[yy * width + xx]) hit = true;
        }
      }
      if (hit) hits++;
    }
  }
  return { hits, total };
}

/** F1 of predicted edges against reference edges (non-zero = edge); 1 when both are empty. */
export function edgeF1(
  predicted: Uint8Array,
  reference: Uint8Array,
  width: number,
  height: number,
  radius = 2,
): { f1: number; precision: number; recall: number } {
  const p = matched(predicted, reference, width, height, radius);
  const r = matched(reference, predicted, width, height, radius);
  if (p.total === 0 && r.total === 0) return { f1: 1, precision: 1, recall: 1 };
  const precision = p.total ? p.hits / p.total : 0;
  const recall = r.total ? r.hits / r.total : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { f1, precision, recall };
}

/** PSNR (dB) over the pixels where `keep(i)` holds; Infinity when they are identical. */
export function psnr(a: RgbImage, b: RgbImage, keep: (pixel: number) => boolean = () => true): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`psnr: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let sq = 0;
  let n = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    if (!keep(i)) continue;
    for (let c = 0; c < 3; c++) sq += (a.data[i * 3 + c]! - b.data[i * 3 + c]!) ** 2;
    n += 3;
  }
  if (n === 0) throw new Error('psnr: no pixels selected');
  return sq === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sq / n));
}

/**
 * Mean absolute colour step (0–255, over RGB) across the edge of a mask: for every repainted pixel
 * with a kept 4-neighbour, the pixel `gap` − 1 further inside against the one `gap` outside (the
 * `gap`-th repainted and the `gap`-th kept pixel from the edge, 2·gap − 1 apart). A fill whose
 * repainted colours meet their surroundings scores what the image itself varies over that distance;
 * a pasted-in patch scores its offset.
 */
export function maskEdgeStep(image: RgbImage, repaint: (pixel: number) => boolean, gap = 2): number {
  const { width, height, data } = image;
  let sum = 0;
  let n = 0;
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < width && y < height ? y * width + x : -1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!repaint(y * width + x)) continue;
      for (const [dx, dy] of [
        [-1, 0],
        [1, 0],
        [0, -1],
        [0, 1],
      ] as const) {
        const q = at(x + dx, y + dy);
        if (q < 0 || repaint(q)) continue;
        const inside = at(x - (gap - 1) * dx, y - (gap - 1) * dy);
        const outside = at(x + gap * dx, y + gap * dy);
        if (inside < 0 || outside < 0 || !repaint(inside) || repaint(outside)) continue;
        for (let c = 0; c < 3; c++) sum += Math.abs(data[inside * 3 + c]! - data[outside * 3 + c]!);
        n += 3;
      }
    }
  }
  if (n === 0) throw new Error('maskEdgeStep: the mask has no edge');
  return sum / n;
}
