// The diffusion classifier behind flux-mini's captioner (Li et al. 2023, "Your Diffusion Model is
// Secretly a Zero-Shot Classifier"): a caption scores by how well flux-mini, told that caption,
// predicts the noise added to the image. Lower is better; the same noise for every caption, so only
// the caption differs between scores.

import { Rng } from '../../engine/rng.ts';
import type { RgbImage } from '../backend.ts';
import { fitImage, imageIds, imageToTokens, type TokenGrid } from '../codec/patches.ts';
import type { FluxRunner } from '../flux/runner.ts';
import type { FluxMiniConfig } from './config.ts';
import type { TextEncoderSession } from './text-session.ts';

export interface CaptionModel {
  config: FluxMiniConfig;
  text: TextEncoderSession;
  runnerFor(grid: TokenGrid, batch?: number): Promise<FluxRunner>;
}

/** Noise levels at which captions are compared; mid-range t carries the most class information. */
const LEVELS = [0.45, 0.7];
/** Captions scored per forward pass. */
export const CAPTION_BATCH = 16;

/** Sum over noise levels of the squared error of the velocity prediction under each caption, at the low grid. */
export async function captionScores(model: CaptionModel, image: RgbImage, captions: readonly string[]): Promise<Float64Array> {
  const patch = model.config.codec.patch;
  const side = model.config.codec.low_size / patch;
  const grid: TokenGrid = { rows: side, cols: side, patch };
  const runner = await model.runnerFor(grid, CAPTION_BATCH);
  const batch = runner.shape.batch;
  const ids = imageIds(grid);
  const batchIds = new Float32Array(batch * ids.length);
  for (let b = 0; b < batch; b++) batchIds.set(ids, b * ids.length);
  const x0 = imageToTokens(await fitImage(image, grid.cols * patch, grid.rows * patch), patch);
  const rng = new Rng(1234);
  const noises = LEVELS.map(() => rng.fillNormal(new Float32Array(x0.length)));
  const scores = new Float64Array(captions.length);
  for (let start = 0; start < captions.length; start += batch) {
    const chunk = captions.slice(start, start + batch);
    const enc = await Promise.all(chunk.map((c) => model.text.encode(c)));
    while (enc.length < batch) enc.push(enc[0]!);
    const txt = new Float32Array(enc.reduce((n, e) => n + e.txt.length, 0));
    const y = new Float32Array(enc.reduce((n, e) => n + e.y.length, 0));
    enc.forEach((e, b) => {
      txt.set(e.txt, b * e.txt.length);
      y.set(e.y, b * e.y.length);
    });
    for (let li = 0; li < LEVELS.length; li++) {
      const t = LEVELS[li]!;
      const eps = noises[li]!;
      const xt = new Float32Array(batch * x0.length);
      for (let b = 0; b < batch; b++) for (let i = 0; i < x0.length; i++) xt[b * x0.length + i] = (1 - t) * x0[i]! + t * eps[i]!;
      const pred = await runner.forward({ img: xt, imgIds: batchIds, txt, y, timesteps: new Float32Array(batch).fill(t) });
      chunk.forEach((_, b) => {
        let err = 0;
        for (let i = 0; i < x0.length; i++) err += (pred[b * x0.length + i]! - (eps[i]! - x0[i]!)) ** 2;
        scores[start + b]! += err;
      });
    }
  }
  return scores;
}
