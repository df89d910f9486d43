// Does a fill draw its object ON the continued background, or paint the whole mask with it? When a
// box is drawn around a thing to replace it, the new object should sit inside the box with the
// background around it, so the box's own shape does not show. Two shares of the repainted pixels
// that are the scene's background colour: over the whole mask, and over its inner ring (the pixels
// within `ring` px of a kept pixel), where a box painted full of texture scores ~0 and an object
// drawn inside its box with room around it ~1.

import type { RgbImage } from '../backend.ts';

/** Chebyshev distance (px) from every pixel to the nearest kept pixel; pixels off the image count as neither. */
export function distanceToKept(repaint: (pixel: number) => boolean, width: number, height: number): Float32Array {
  const d = new Float32Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = repaint(i) ? Infinity : 0;
  // two chamfer passes with unit costs on all 8 neighbours give the exact Chebyshev distance
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let v = d[i]!;
      if (x > 0) v = Math.min(v, d[i - 1]! + 1);
      if (y > 0) {
        v = Math.min(v, d[i - width]! + 1);
        if (x > 0) v = Math.min(v, d[i - width - 1]! + 1);
        if (x < width - 1) v = Math.min(v, d[i - width + 1]! + 1);
      }
      d[i] = v;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      let v = d[i]!;
      if (x < width - 1) v = Math.min(v, d[i + 1]! + 1);
      if (y < height - 1) {
        v = Math.min(v, d[i + width]! + 1);
        if (x < width - 1) v = Math.min(v, d[i + width + 1]! + 1);
        if (x > 0) v = Math.min(v, d[i + width - 1]! + 1);
      }
      d[i] = v;
    }
  }
  return d;
}

export interface MaskedBackground {
  /** Share of all repainted pixels within `tolerance` of the background colour. */
  inside: number;
  /** The same share over the repainted pixels at most `ring` px from a kept pixel. */
  ring: number;
}

/** See the file comment; `tolerance` is a Euclidean RGB distance (0–441). */
export function maskedBackgroundShare(
  image: RgbImage,
  repaint: (pixel: number) => boolean,
  background: readonly [number, number, number],
  ring: number,
  tolerance = 40,
): MaskedBackground {
  const dist = distanceToKept(repaint, image.width, image.height);
  let inside = 0;
  let insideBg = 0;
  let outline = 0;
  let outlineBg = 0;
  for (let i = 0; i < dist.length; i++) {
    if (dist[i] === 0) continue;
    const d = image.data;
    const bg = Math.hypot(d[i * 3]! - background[0], d[i * 3 + 1]! - background[1], d[i * 3 + 2]! - background[2]) <= tolerance ? 1 : 0;
    inside++;
    insideBg += bg;
    if (dist[i]! <= ring) {
      outline++;
      outlineBg += bg;
    }
  }
  if (inside === 0) throw new Error('maskedBackgroundShare: the mask repaints nothing');
  return { inside: insideBg / inside, ring: outline ? outlineBg / outline : 0 };
}
