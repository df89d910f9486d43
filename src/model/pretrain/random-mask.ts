// Training masks for the fill variant, the kinds people paint (LaMa's and SD-inpainting's recipes):
// boxes, blobs, brush strokes, an object's silhouette, and borders for outpainting. 1 = repaint.
// Plus the box people draw around a thing to replace it: an object's box with a margin, so that most
// of what the model must paint inside a box is background around the object, not the object itself.
// (Trained without it, the only masks hiding a whole object were silhouettes, and fill learnt to paint
// a box full of the concept's texture.)

import type { Rng } from '../../engine/rng.ts';
import type { Placement, Sprite } from './scenes.ts';

export type MaskKind = 'box' | 'blob' | 'brush' | 'silhouette' | 'border' | 'object-box';
export const MASK_KINDS: readonly MaskKind[] = ['box', 'blob', 'brush', 'silhouette', 'border', 'object-box'];
/** The share of object-box masks where the scene has objects; the other kinds share the rest evenly. */
export const OBJECT_BOX_SHARE = 0.4;

function fillEllipse(m: Float32Array, s: number, cx: number, cy: number, rx: number, ry: number): void {
  for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(s, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(s, Math.ceil(cx + rx)); x++) {
      if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) m[y * s + x] = 1;
    }
  }
}

function box(rng: Rng, s: number): Float32Array {
  const m = new Float32Array(s * s);
  const w = Math.round(s * (0.2 + 0.45 * rng.uniform()));
  const h = Math.round(s * (0.2 + 0.45 * rng.uniform()));
  const x0 = rng.int(s - w + 1);
  const y0 = rng.int(s - h + 1);
  for (let y = y0; y < y0 + h; y++) m.fill(1, y * s + x0, y * s + x0 + w);
  return m;
}

function blob(rng: Rng, s: number): Float32Array {
  const m = new Float32Array(s * s);
  const cx = s * (0.25 + 0.5 * rng.uniform());
  const cy = s * (0.25 + 0.5 * rng.uniform());
  for (let k = 1 + rng.int(3); k > 0; k--) {
    fillEllipse(
      m,
      s,
      cx + s * 0.15 * (rng.uniform() - 0.5),
      cy + s * 0.15 * (rng.uniform() - 0.5),
      s * (0.1 + 0.2 * rng.uniform()),
      s * (0.1 + 0.2 * rng.uniform()),
    );
  }
  return m;
}

function brush(rng: Rng, s: number): Float32Array {
  const m = new Float32Array(s * s);
  for (let stroke = 1 + rng.int(3); stroke > 0; stroke--) {
    const r = s * (0.04 + 0.07 * rng.uniform());
    let x = s * rng.uniform();
    let y = s * rng.uniform();
    let angle = 2 * Math.PI * rng.uniform();
    for (let v = 3 + rng.int(4); v > 0; v--) {
      const len = s * (0.1 + 0.25 * rng.uniform());
      const steps = Math.ceil(len / (r / 2));
      for (let i = 0; i <= steps; i++) fillEllipse(m, s, x + (Math.cos(angle) * len * i) / steps, y + (Math.sin(angle) * len * i) / steps, r, r);
      x += Math.cos(angle) * len;
      y += Math.sin(angle) * len;
      angle += (rng.uniform() - 0.5) * 2.5;
    }
  }
  return m;
}

/** The object's footprint (sprite alpha > 0.3, nearest texel), dilated by `grow` pixels. */
export function silhouette(o: Placement, sprite: Sprite, s: number, grow: number): Float32Array {
  const m = new Float32Array(s * s);
  const side = o.size * s;
  const left = o.cx * s - side / 2;
  const top = o.cy * s - side / 2;
  const scale = sprite.size / side;
  for (let y = Math.max(0, Math.floor(top - grow)); y < Math.min(s, Math.ceil(top + side + grow)); y++) {
    for (let x = Math.max(0, Math.floor(left - grow)); x < Math.min(s, Math.ceil(left + side + grow)); x++) {
      let hit = false;
      for (let dy = -grow; dy <= grow && !hit; dy++) {
        for (let dx = -grow; dx <= grow && !hit; dx++) {
          const u = Math.floor((x + dx + 0.5 - left) * scale);
          const v = Math.floor((y + dy + 0.5 - top) * scale);
          if (u >= 0 && v >= 0 && u < sprite.size && v < sprite.size && sprite.rgba[(v * sprite.size + u) * 4 + 3]! > 77) hit = true;
        }
      }
      if (hit) m[y * s + x] = 1;
    }
  }
  return m;
}

/** The object's visible footprint (sprite alpha > 0.3) as a pixel box [x0, y0, x1, y1) at s×s, clipped to the image. */
export function footprintBox(o: Placement, sprite: Sprite, s: number): [number, number, number, number] {
  const side = o.size * s;
  const left = o.cx * s - side / 2;
  const top = o.cy * s - side / 2;
  let [u0, v0, u1, v1] = [sprite.size, sprite.size, -1, -1];
  for (let v = 0; v < sprite.size; v++) {
    for (let u = 0; u < sprite.size; u++) {
      if (sprite.rgba[(v * sprite.size + u) * 4 + 3]! <= 77) continue;
      u0 = Math.min(u0, u);
      u1 = Math.max(u1, u);
      v0 = Math.min(v0, v);
      v1 = Math.max(v1, v);
    }
  }
  const k = side / sprite.size;
  const clip = (x: number) => Math.max(0, Math.min(s, x));
  return [clip(Math.floor(left + u0 * k)), clip(Math.floor(top + v0 * k)), clip(Math.ceil(left + (u1 + 1) * k)), clip(Math.ceil(top + (v1 + 1) * k))];
}

/** A box around the object's footprint, each side pushed out by 3–38% of the footprint's longer side (drawn per side, so the object is not always centred in it). */
export function objectBox(rng: Rng, o: Placement, sprite: Sprite, s: number): Float32Array {
  const [fx0, fy0, fx1, fy1] = footprintBox(o, sprite, s);
  const side = Math.max(fx1 - fx0, fy1 - fy0, 1);
  const grow = () => Math.round(side * (0.03 + 0.35 * rng.uniform()));
  const x0 = Math.max(0, fx0 - grow());
  const x1 = Math.min(s, fx1 + grow());
  const y0 = Math.max(0, fy0 - grow());
  const y1 = Math.min(s, fy1 + grow());
  const m = new Float32Array(s * s);
  for (let y = y0; y < y1; y++) m.fill(1, y * s + x0, y * s + x1);
  return m;
}

/** Outpainting: keep an inner rectangle, repaint one to four borders. */
function border(rng: Rng, s: number): Float32Array {
  const m = new Float32Array(s * s).fill(1);
  const cut = () => Math.round(s * (0.1 + 0.3 * rng.uniform()));
  const sides = [rng.uniform() < 0.6, rng.uniform() < 0.6, rng.uniform() < 0.6, rng.uniform() < 0.6];
  if (!sides.some(Boolean)) sides[rng.int(4)] = true;
  const [l, r, t, b] = sides.map((on) => (on ? cut() : 0)) as [number, number, number, number];
  for (let y = t; y < s - b; y++) m.fill(0, y * s + l, y * s + s - r);
  return m;
}

/** A random mask at s×s; `objects` (with their sprites) allow silhouette and object-box masks. */
export function randomMask(
  rng: Rng,
  s: number,
  objects: readonly { placement: Placement; sprite: Sprite }[],
  objectBoxShare = OBJECT_BOX_SHARE,
): { kind: MaskKind; mask: Float32Array } {
  if (objects.length && rng.uniform() < objectBoxShare) {
    const o = objects[rng.int(objects.length)]!;
    return { kind: 'object-box', mask: objectBox(rng, o.placement, o.sprite, s) };
  }
  const kinds = MASK_KINDS.filter((k): k is Exclude<MaskKind, 'object-box'> => k !== 'object-box' && (objects.length > 0 || k !== 'silhouette'));
  const kind = kinds[rng.int(kinds.length)]!;
  switch (kind) {
    case 'box':
      return { kind, mask: box(rng, s) };
    case 'blob':
      return { kind, mask: blob(rng, s) };
    case 'brush':
      return { kind, mask: brush(rng, s) };
    case 'border':
      return { kind, mask: border(rng, s) };
    case 'silhouette': {
      const o = objects[rng.int(objects.length)]!;
      return { kind, mask: silhouette(o.placement, o.sprite, s, Math.max(1, Math.round(s * 0.03 * (1 + rng.uniform())))) };
    }
  }
}
