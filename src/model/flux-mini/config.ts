// flux-mini's configuration: BFL FluxParams for the transformer plus our text encoder and codec.

import { readFileSync } from 'node:fs';
import { type FluxParams, parseFluxParams } from '../flux/config.ts';
import { type Prediction, parsePrediction } from '../flux/prediction.ts';
import type { TextEncoderConfig } from '../text/encoder.ts';

export interface FluxMiniConfig {
  name: string;
  flux: FluxParams;
  /** What the transformer's last layer predicts (flux/prediction.ts); absent = BFL's velocity. */
  prediction: Prediction;
  text_encoder: TextEncoderConfig;
  codec: { type: 'patches'; patch: number; native_size: number; low_size: number };
  /**
   * `base_shift`/`max_shift`: μ of the time shift at 256 and 4096 image tokens (BFL: 0.5, 1.15).
   * Pixel patches carry far more redundant signal than VAE latents, so flux-mini shifts harder
   * toward noise; training draws t with the same shift so it spends its steps where sampling does.
   */
  sampling: {
    steps: number;
    guidance: number;
    base_shift?: number;
    max_shift?: number;
    timestep_uniform?: number;
    /** Guidance rescale φ (see sampling/denoise.ts); 0 or absent = plain CFG. */
    cfg_rescale?: number;
  };
  /**
   * The structural variants (conditioning/control-variant.ts). `reference_guidance` is the route's
   * default guidance in BFL's API (canny 30, depth 15, fill 60: FLUX.1's distilled-guidance scale);
   * flux-mini runs classifier-free guidance instead, at sampling.guidance × guidance / reference.
   */
  control?: Partial<Record<'canny' | 'depth' | 'fill', { reference_guidance: number }>>;
  /** The API's learning rates are FLUX.1-sized (width 3072); flux-mini multiplies them by this (μP-style width ratio). */
  finetune?: {
    lr_scale: number;
    /**
     * A full finetune's extra lr factor over a LoRA's: at lr_scale alone a full finetune of a novel
     * concept learnt its colours but not its outline (MODEL_CARD.md, "Novel concepts").
     */
    full_lr_multiplier?: number;
  };
}

export const MODEL_DIR = new URL('../../../models/flux-mini/', import.meta.url);

export function loadFluxMiniConfig(path: URL | string = new URL('config.json', MODEL_DIR)): FluxMiniConfig {
  const json = JSON.parse(readFileSync(path, 'utf8')) as FluxMiniConfig;
  return { ...json, flux: parseFluxParams(json.flux), prediction: parsePrediction(json.prediction) };
}

export function textTokens(c: FluxMiniConfig): number {
  return c.text_encoder.max_bytes / c.text_encoder.merge;
}

/** The schedule shift flux-mini samples with. */
export function scheduleShift(c: FluxMiniConfig): { baseShift: number; maxShift: number } {
  return { baseShift: c.sampling.base_shift ?? 0.5, maxShift: c.sampling.max_shift ?? 1.15 };
}

/** How training (pretraining and finetuning alike) draws t: the sampler's shift plus a uniform share. */
export function trainingTimesteps(c: FluxMiniConfig): { baseShift: number; maxShift: number; uniform: number } {
  return { ...scheduleShift(c), uniform: c.sampling.timestep_uniform ?? 0 };
}
