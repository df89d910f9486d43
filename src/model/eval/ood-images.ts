// Images flux-mini never saw in pretraining, for checking that its captioner names nothing it does not
// know: procedural shapes with patterns the scene generator never draws (rings, striped boxes, stars,
// checker discs) on plain backgrounds, and photo-like pictures (smooth colour fields with a shaded
// subject and grain) whose background is not one plain colour. Seeded, so tests and the calibration see the same images.

import type { Rng } from '../../engine/rng.ts';
import type { RgbImage } from '../backend.ts';

export const SHAPE_KINDS = ['rings', 'striped box', 'star', 'checker disc'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

type Rgb = [number, number, number];
const randomColour = (rng: Rng): Rgb => [rng.int(256), rng.int(256), rng.int(256)];

/** One patterned shape of `kind` at a random place and size on a plain random background. */
export function proceduralShape(rng: Rng, kind: ShapeKind, size = 256): RgbImage {
  const [bg, a, b] = [randomColour(rng), randomColour(rng), randomColour(rng)];
  const cx = 0.3 + 0.4 * rng.uniform();
  const cy = 0.3 + 0.4 * rng.uniform();
  const r = 0.15 + 0.15 * rng.uniform();
  const freq = 3 + rng.int(6);
  const turn = rng.uniform() * Math.PI;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size - cx;
      const v = (y + 0.5) / size - cy;
      const d = Math.hypot(u, v);
      const angle = Math.atan2(v, u) + turn;
      let c: Rgb = bg;
      if (kind === 'rings' && d < r) c = Math.floor((d / r) * freq) % 2 ? a : b;
      if (kind === 'striped box' && Math.abs(u) < r && Math.abs(v) < 0.6 * r) c = Math.floor(((u + v) / r) * freq) % 2 ? a : b;
      if (kind === 'star' && d < r * (0.55 + 0.45 * Math.cos(5 * angle))) c = d < 0.3 * r ? b : a;
      if (kind === 'checker disc' && d < r) c = (Math.floor((u / r) * freq) + Math.floor((v / r) * freq)) % 2 ? a : b;
      data.set(c, (y * size + x) * 3);
    }
  }
  return { width: size, height: size, data };
}

/** A photo-like picture: a smooth two-colour field, a shaded ellipse for a subject, and sensor-like grain. */
export function photoLike(rng: Rng, size = 256): RgbImage {
  const [top, bottom, subject] = [randomColour(rng), randomColour(rng), randomColour(rng)];
  const fx = 1 + 3 * rng.uniform();
  const fy = 1 + 3 * rng.uniform();
  const phase = rng.uniform() * 6.28;
  const cx = 0.35 + 0.3 * rng.uniform();
  const cy = 0.35 + 0.3 * rng.uniform();
  const rx = 0.12 + 0.15 * rng.uniform();
  const ry = 0.12 + 0.15 * rng.uniform();
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x / size;
      const v = y / size;
      const t = Math.min(1, Math.max(0, v + 0.2 * Math.sin(fx * 6.28 * u + phase) * Math.cos(fy * 3.14 * v)));
      const e = ((u - cx) / rx) ** 2 + ((v - cy) / ry) ** 2;
      const shade = e < 1 ? 0.6 + 0.4 * (1 - e) * (1 - (u - cx + rx) / (2 * rx)) : 0;
      for (let c = 0; c < 3; c++) {
        const field = top[c]! * (1 - t) + bottom[c]! * t;
        const value = e < 1 ? subject[c]! * shade : field;
        data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value + 12 * rng.normal())));
      }
    }
  }
  return { width: size, height: size, data };
}
