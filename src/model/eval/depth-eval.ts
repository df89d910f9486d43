// The depth estimator's held-out check: seeded scenes the training never drew (another seed; half
// of them showing only HELD_OUT concepts, which no training scene contains), scored by Spearman's ρ
// between the estimated and the exact depth over every pixel, averaged over the scenes. Shared by
// scripts/train-depth.ts (which records the figure) and test/model/depth-estimator.test.ts.

import { Rng } from '../../engine/rng.ts';
import type { RgbImage } from '../backend.ts';
import { layeredScene, renderSceneDepth } from '../pretrain/scene-depth.ts';
import { CORE_CONCEPTS, HELD_OUT, randomScene, renderScene, type SceneSpec, type Sprite } from '../pretrain/scenes.ts';
import { spearman } from './rank-correlation.ts';

export const HELD_OUT_DEPTH_SEED = 90210;

export interface DepthCase {
  spec: SceneSpec;
  image: RgbImage;
  depth: Float32Array;
}

/**
 * `n` scenes at size × size: even ones randomScene layouts of HELD_OUT concepts, odd ones layered
 * scenes (1–3 cut-outs) of HELD_OUT and core concepts mixed. `sprites` must hold all of them.
 */
export function heldOutDepthCases(sprites: ReadonlyMap<string, Sprite>, n = 16, size = 128, seed = HELD_OUT_DEPTH_SEED): DepthCase[] {
  const rng = new Rng(seed);
  const mixed = [...HELD_OUT, ...CORE_CONCEPTS];
  return Array.from({ length: n }, (_, i) => {
    const spec = i % 2 === 0 ? randomScene(rng, HELD_OUT).spec : layeredScene(rng, mixed);
    return { spec, image: renderScene(spec, sprites, size, size), depth: renderSceneDepth(spec, sprites, size, size) };
  });
}

export interface DepthScore {
  /** Spearman's ρ per case. */
  rhos: number[];
  mean: number;
  min: number;
}

export async function scoreDepth(estimate: (img: RgbImage) => Promise<Float32Array>, cases: readonly DepthCase[]): Promise<DepthScore> {
  const rhos: number[] = [];
  for (const c of cases) rhos.push(spearman(await estimate(c.image), c.depth));
  return { rhos, mean: rhos.reduce((a, b) => a + b, 0) / rhos.length, min: Math.min(...rhos) };
}
