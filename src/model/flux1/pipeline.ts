// FLUX.1 text-to-image as BFL's sampling.py runs it: noise at the latent size, 2×2 packing,
// the schedule (shifted for dev-style models, plain for schnell), Euler `denoise` with the
// distilled guidance fed as the guidance embedding, `unpack`, then the autoencoder's decode.
// Canny/Depth/Fill join their encoded condition after the noisy latents (conditioning/condition.ts),
// encoded by the same autoencoder.

import type { AeRunner } from '../ae/runner.ts';
import { type ImageCodec, prepareControl, prepareFill } from '../conditioning/condition.ts';
import { pack, unpack } from '../conditioning/pack.ts';
import type { AppliedLora, FluxRunner } from '../flux/runner.ts';
import type { DenoiseOptions } from '../sampling/denoise.ts';
import { sample } from '../sampling/sampler.ts';
import { getSchedule } from '../sampling/schedule.ts';
import type { FloatArray } from '../tensors.ts';
import { type LatentGrid, latentImageIds, PACK } from './latents.ts';

export interface Flux1Request extends DenoiseOptions {
  /** T5 states [1, L_txt, context_in_dim]. */
  txt: ArrayLike<number>;
  /** CLIP pooled [1, vec_in_dim]. */
  y: ArrayLike<number>;
  /** Starting latents [C, h, w] (latents.ts `latentNoise`, or BFL's own noise). */
  noise: ArrayLike<number>;
  steps: number;
  /** Distilled guidance (dev-style models; ignored by schnell, which has no embedding). */
  guidance: number;
  /** Shifted schedule (dev) or plain (schnell). */
  shift: boolean;
  /** Packed condition tokens [L_img, in_channels − out_channels] (canny/depth/fill). */
  imgCond?: ArrayLike<number>;
  lora?: AppliedLora;
}

export interface Flux1Output {
  timesteps: number[];
  /** Packed latents after denoising [L_img, C·4]. */
  denoised: FloatArray;
  /** Unpacked [C, h, w]. */
  latents: Float32Array;
  /** Decoded [3, H, W] in ≈[−1, 1]. */
  image: FloatArray;
}

/** The autoencoder as the conditioning code's codec: encode gives z [C, H/f, W/f] for one image. */
export function aeCodec(ae: AeRunner): ImageCodec {
  const p = ae.encodeGraph.params;
  return {
    encode: async (image) => (await ae.encode(image)).z as Float32Array,
    channels: p.z_channels,
    factor: 2 ** (p.ch_mult.length - 1),
    patch: PACK,
  };
}

export class Flux1Pipeline {
  /** `flux` is built for batch 1 and this grid's tokens; `ae` for the grid's image size. */
  constructor(
    readonly flux: FluxRunner,
    readonly ae: AeRunner,
    readonly grid: LatentGrid,
  ) {
    const tokens = grid.rows * grid.cols;
    if (flux.shape.imgTokens !== tokens || flux.shape.batch !== 1)
      throw new Error(`Flux1Pipeline: the transformer is built for ${flux.shape.imgTokens} tokens × ${flux.shape.batch}, the grid has ${tokens} × 1`);
  }

  get codec(): ImageCodec {
    return aeCodec(this.ae);
  }

  /** BFL `prepare_control`: the preprocessed control image [3, H, W] in [−1, 1] → packed latents. */
  controlCondition(image: Float32Array, height: number, width: number): Promise<Float32Array> {
    return prepareControl(this.codec, image, height, width);
  }

  /** BFL `prepare_fill`: image [3, H, W] in [−1, 1] and mask [H, W] (1 = repaint) → masked latents ‖ packed mask. */
  fillCondition(image: Float32Array, mask: ArrayLike<number>, height: number, width: number): Promise<Float32Array> {
    return prepareFill(this.codec, image, mask, height, width);
  }

  async run(req: Flux1Request): Promise<Flux1Output> {
    const { channels: C, height: h, width: w, rows, cols } = this.grid;
    if (req.noise.length !== C * h * w) throw new Error(`Flux1Pipeline: noise has ${req.noise.length} values for [${C}, ${h}, ${w}]`);
    const tokens = rows * cols;
    const timesteps = getSchedule(req.steps, tokens, { shift: req.shift });
    const usesGuidance = this.flux.flux.params.guidance_embed;
    const denoised = await sample({
      runner: this.flux,
      cond: { txt: req.txt, y: req.y },
      imgIds: latentImageIds(this.grid),
      noise: pack(req.noise, C, h, w, PACK),
      imgCond: req.imgCond,
      steps: req.steps,
      guidance: usesGuidance ? req.guidance : undefined,
      schedule: { shift: req.shift },
      lora: req.lora,
      signal: req.signal,
      onStep: req.onStep,
    });
    const latents = unpack(denoised, C, h, w, PACK);
    const image = await this.ae.decode(latents);
    return { timesteps, denoised, latents, image };
  }
}
