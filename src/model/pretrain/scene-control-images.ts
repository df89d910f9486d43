// The condition images the canny and depth variants train on, made from each training scene: its
// canny edges at thresholds drawn around the API's defaults (50 / 200), or its exact depth.

import type { StructuralKind } from '../backend.ts';
import { cannyControlImage } from '../conditioning/canny.ts';
import type { SceneControlImage } from './control-scenes.ts';
import { depthToImage, renderSceneDepth } from './scene-depth.ts';

export function sceneControlImage(kind: StructuralKind): SceneControlImage | undefined {
  switch (kind) {
    case 'fill':
      return undefined;
    case 'canny':
      return (rng, { image }) => {
        const low = 20 + 100 * rng.uniform();
        return cannyControlImage(image, low, low + 50 + 200 * rng.uniform());
      };
    case 'depth':
      return (_rng, { spec, image }, sprites) => depthToImage(renderSceneDepth(spec, sprites, image.width, image.height), image.width, image.height);
  }
}
