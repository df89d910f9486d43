// The exact depth of a scene that `renderScene` draws, for training and checking depth
// conditioning (FLUX.1-Depth style). The convention is that of MiDaS / Depth Anything, whose
// output FLUX.1 Depth's preprocessor passes on: inverse depth in [0, 1], near = 1 (white).
//
// A composed emoji scene has no depth of its own, so we define one that can be read off the
// picture: the background is a ground plane receding upwards (far at the top row, nearer at the
// bottom row), and each object is a flat cut-out standing at a depth that follows its size
// (bigger = nearer), composited over what is behind it with the sprite's alpha exactly as its
// colour is: same footprint, same bilinear alpha, same order (later objects in front).

import type { Rng } from '../../engine/rng.ts';
import type { RgbImage } from '../backend.ts';
import { imageToDepth as toDepth, depthToImage as toImage } from '../conditioning/depth-image.ts';
import { COLORS } from '../flux-mini/caption-vocabulary.ts';
import type { Placement, SceneSpec, Sprite } from './scenes.ts';

/** The ground plane's inverse depth at the top and bottom rows; rows between are linear in y. */
export const GROUND_DEPTH = { top: 0.05, bottom: 0.3 } as const;

/** Inverse depth of the background at row y of an image `height` rows tall. */
export function groundDepth(y: number, height: number): number {
  const t = height > 1 ? y / (height - 1) : 1;
  return GROUND_DEPTH.top + (GROUND_DEPTH.bottom - GROUND_DEPTH.top) * t;
}

/** Inverse depth of a cut-out whose side is `size` (fraction of the width): 0.45 at 0.35, 0.95 at 0.85, in [0.4, 1]. */
export function objectDepth(size: number): number {
  return Math.max(0.4, Math.min(1, 0.45 + (0.5 * (size - 0.35)) / 0.5));
}

/**
 * The bilinear alpha `renderScene`'s sampler gives at (u, v) in sprite pixels: the same clamped
 * taps and weights (its colour is weighted by this very sum). Kept alongside it by
 * test/model/scene-depth.test.ts, which checks the footprints agree to the grey level.
 */
function sampleAlpha(s: Sprite, u: number, v: number): number {
  const n = s.size;
  const x0 = Math.max(0, Math.min(n - 1, Math.floor(u)));
  const y0 = Math.max(0, Math.min(n - 1, Math.floor(v)));
  const x1 = Math.min(n - 1, x0 + 1);
  const y1 = Math.min(n - 1, y0 + 1);
  const fx = Math.max(0, Math.min(1, u - x0));
  const fy = Math.max(0, Math.min(1, v - y0));
  const a = (x: number, y: number) => s.rgba[(y * n + x) * 4 + 3]! / 255;
  return a(x0, y0) * (1 - fx) * (1 - fy) + a(x1, y0) * fx * (1 - fy) + a(x0, y1) * (1 - fx) * fy + a(x1, y1) * fx * fy;
}

/** [height·width] inverse depth (near = 1) of the scene `renderScene(spec, sprites, width, height)` draws. */
export function renderSceneDepth(spec: SceneSpec, sprites: ReadonlyMap<string, Sprite>, width: number, height: number): Float32Array {
  const depth = new Float32Array(width * height);
  for (let y = 0; y < height; y++) depth.fill(groundDepth(y, height), y * width, (y + 1) * width);
  for (const o of spec.objects) {
    const s = sprites.get(o.concept);
    if (!s) throw new Error(`no sprite for ${o.concept}`);
    const d = objectDepth(o.size);
    // the geometry of renderScene, line for line
    const side = o.size * width;
    const left = o.cx * width - side / 2;
    const top = o.cy * height - side / 2;
    const scale = s.size / side;
    for (let y = Math.max(0, Math.floor(top)); y < Math.min(height, Math.ceil(top + side)); y++) {
      for (let x = Math.max(0, Math.floor(left)); x < Math.min(width, Math.ceil(left + side)); x++) {
        const a = sampleAlpha(s, (x + 0.5 - left) * scale - 0.5, (y + 0.5 - top) * scale - 0.5);
        if (a <= 0) continue;
        const i = y * width + x;
        depth[i] = depth[i]! * (1 - a) + d * a;
      }
    }
  }
  return depth;
}

/** Grey levels round(255·d), 3 channels (the control image FLUX.1 Depth takes). */
export function depthToImage(depth: Float32Array, width: number, height: number): RgbImage {
  return toImage(depth, width, height);
}

/** Mean of the channels / 255. */
export function imageToDepth(img: RgbImage): Float32Array {
  return toDepth(img);
}

/**
 * A scene with more layout than `randomScene`'s fixed slots, for depth training and evaluation:
 * 1–3 cut-outs of random sizes (0.2–0.85 of the width) anywhere in the frame (partly cropped at
 * the edges), drawn far to near — smaller first, so whoever covers another is also nearer, as in a
 * real scene.
 */
export function layeredScene(rng: Rng, concepts: readonly string[]): SceneSpec {
  const colors = Object.keys(COLORS);
  const background = colors[rng.int(colors.length)]!;
  const r = rng.uniform();
  const n = r < 0.4 ? 1 : r < 0.75 ? 2 : 3;
  const objects: Placement[] = [];
  for (let i = 0; i < n; i++) {
    objects.push({
      concept: concepts[rng.int(concepts.length)]!,
      cx: 0.1 + 0.8 * rng.uniform(),
      cy: 0.1 + 0.8 * rng.uniform(),
      size: 0.2 + 0.65 * rng.uniform(),
    });
  }
  objects.sort((a, b) => a.size - b.size);
  return { background, objects };
}
