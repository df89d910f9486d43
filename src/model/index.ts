// The model package's entry point for the service: the shipped base model behind ModelBackend.

import type { ModelBackend } from './backend.ts';
import { FluxMiniBackend } from './flux-mini/backend.ts';

export type { ModelBackend } from './backend.ts';

/** FLUXTUNE_MODEL=<dir> serves a real FLUX.1 checkpoint folder (src/model/flux1); unset, the shipped flux-mini. */
export async function loadDefaultBackend(opts: { threads?: number } = {}): Promise<ModelBackend> {
  const dir = process.env.FLUXTUNE_MODEL?.trim();
  if (dir) {
    const { Flux1Backend } = await import('./flux1/backend.ts');
    return Flux1Backend.load(dir, opts);
  }
  return FluxMiniBackend.load(opts);
}
