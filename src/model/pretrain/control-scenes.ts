// Training examples for the control variants: a random pretraining scene, its caption, and the
// condition the variant learns to follow, computed from the scene itself: its canny edges, its exact
// depth (the compositor knows every layer), or a random mask over it.

import type { Rng } from '../../engine/rng.ts';
import type { RgbImage, StructuralKind } from '../backend.ts';
import { type ImageCodec, imageToChw, prepareControl, prepareFill } from '../conditioning/condition.ts';
import { randomMask } from './random-mask.ts';
import { freeLayoutScene, randomScene, renderScene, type SceneSpec, type Sprite } from './scenes.ts';

export interface ControlExample {
  image: RgbImage;
  caption: string;
  /** Condition tokens [L, in_channels − out_channels]. */
  cond: Float32Array;
}

/** How a kind's condition image is made from a training scene (canny: its edges; depth: its exact depth map). */
export type SceneControlImage = (rng: Rng, scene: { spec: SceneSpec; image: RgbImage }, sprites: ReadonlyMap<string, Sprite>) => RgbImage;

export async function controlExample(
  rng: Rng,
  kind: StructuralKind,
  o: {
    sprites: ReadonlyMap<string, Sprite>;
    concepts: readonly string[];
    size: number;
    codec: ImageCodec;
    captionDropout: number;
    /** The fraction of scenes whose layout only the condition says (freeLayoutScene); the rest are pretraining scenes. */
    freeLayout?: number;
    controlImage?: SceneControlImage;
    /** Fill: the share of object-box masks (random-mask.ts); its default when unset. */
    objectBox?: number;
  },
): Promise<ControlExample> {
  const free = (o.freeLayout ?? 0) > 0 && rng.uniform() < o.freeLayout!;
  const { spec, caption } = (free ? freeLayoutScene : randomScene)(rng, o.concepts, o.captionDropout);
  const image = renderScene(spec, o.sprites, o.size, o.size);
  if (kind === 'fill') {
    const objects = spec.objects.map((placement) => ({ placement, sprite: o.sprites.get(placement.concept)! }));
    const { mask } = randomMask(rng, o.size, objects, o.objectBox);
    return { image, caption, cond: await prepareFill(o.codec, imageToChw(image), mask, o.size, o.size) };
  }
  if (!o.controlImage) throw new Error(`controlExample: ${kind} needs a controlImage function`);
  const control = o.controlImage(rng, { spec, image }, o.sprites);
  return { image, caption, cond: await prepareControl(o.codec, imageToChw(control), o.size, o.size) };
}
