// Canny, Depth and Fill on FLUX.1's tool models (BFL sampling.py `prepare_control`,
// `prepare_fill`): the request's image, resized to the sample size, becomes the condition the
// model was trained with — Canny edges (the same OpenCV-exact Canny as flux-mini's) or the depth
// map, encoded by the autoencoder and packed; Fill's masked image encoded plus its mask packed per
// latent pixel. The sample then goes back to the request's size, Fill keeping the user's pixels
// where the mask keeps them (flux-mini/structural.ts `structuralOutput`, the API's contract).

import sharp from 'sharp';
import { InvalidModelInput, type StructuralControl } from '../backend.ts';
import { stretchImage } from '../codec/patches.ts';
import { cannyControlImage } from '../conditioning/canny.ts';
import { imageToChw } from '../conditioning/condition.ts';
import type { Flux1Pipeline } from './pipeline.ts';

async function maskAt(control: Extract<StructuralControl, { kind: 'fill' }>, width: number, height: number): Promise<Float32Array> {
  const { mask, image } = control;
  const data =
    image.width === width && image.height === height
      ? mask
      : await sharp(mask, { raw: { width: image.width, height: image.height, channels: 1 } })
          .resize(width, height, { fit: 'fill', kernel: 'linear' })
          .extractChannel(0)
          .raw()
          .toBuffer();
  return Float32Array.from(data, (v) => v / 255);
}

/** The packed condition tokens of `control` for a sample of `width`×`height` pixels. */
export async function flux1Condition(control: StructuralControl, pipeline: Flux1Pipeline, width: number, height: number): Promise<Float32Array> {
  const image = await stretchImage(control.image, width, height);
  switch (control.kind) {
    case 'canny': {
      const edges = control.preprocessed ? image : cannyControlImage(image, control.lowThreshold, control.highThreshold);
      return pipeline.controlCondition(imageToChw(edges), height, width);
    }
    case 'depth':
      if (!control.preprocessed) {
        throw new InvalidModelInput(
          'FLUX.1 Depth takes a depth map: send it as preprocessed_image (the Depth Anything estimator BFL derives it with is not built into fluxtune)',
        );
      }
      return pipeline.controlCondition(imageToChw(image), height, width);
    case 'fill':
      return pipeline.fillCondition(imageToChw(image), await maskAt(control, width, height), height, width);
  }
}
