// flux-mini's configuration: BFL FluxParams for the transformer plus our text encoder and codec.

import { readFileSync } from 'node:fs';
import { type FluxParams, parseFluxParams } from '../flux/config.ts';
import type { TextEncoderConfig } from '../text/encoder.ts';

export interface FluxMiniConfig {
  name: string;
  flux: FluxParams;
  text_encoder: TextEncoderConfig;
  codec: { type: 'patches'; patch: number; native_size: number; low_size: number };
  sampling: { steps: number; guidance: number };
  /** The API's learning rates are FLUX.1-sized (width 3072); flux-mini multiplies them by this (μP-style width ratio). */
  finetune?: { lr_scale: number };
}

export const MODEL_DIR = new URL('../../../models/flux-mini/', import.meta.url);

export function loadFluxMiniConfig(path: URL | string = new URL('config.json', MODEL_DIR)): FluxMiniConfig {
  const json = JSON.parse(readFileSync(path, 'utf8')) as FluxMiniConfig;
  return { ...json, flux: parseFluxParams(json.flux) };
}

export function textTokens(c: FluxMiniConfig): number {
  return c.text_encoder.max_bytes / c.text_encoder.merge;
}
