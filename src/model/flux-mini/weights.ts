// The shipped flux-mini weights (fp16 safetensors, widened to fp32 on load), split into the
// FLUX transformer's tensors (BFL keys) and the text encoder's.

import { readFileSync } from 'node:fs';
import { readTensors, type Tensors } from '../tensors.ts';
import { TEXT_PREFIX } from '../text/encoder.ts';
import { MODEL_DIR } from './config.ts';

export const WEIGHTS_URL = new URL('flux-mini.safetensors', MODEL_DIR);

export interface FluxMiniWeights {
  flux: Tensors;
  text: Tensors;
  metadata: Record<string, string>;
}

export function splitWeights(all: Tensors, metadata: Record<string, string> = {}): FluxMiniWeights {
  const flux: Tensors = new Map();
  const text: Tensors = new Map();
  for (const [k, t] of all) (k.startsWith(`${TEXT_PREFIX}.`) ? text : flux).set(k, t);
  return { flux, text, metadata };
}

export function loadFluxMiniWeights(path: URL | string = WEIGHTS_URL): FluxMiniWeights {
  const { tensors, metadata } = readTensors(readFileSync(path));
  return splitWeights(tensors, metadata);
}
