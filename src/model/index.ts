// The model package's entry point for the service: the shipped base model behind ModelBackend.

import type { ModelBackend } from './backend.ts';
import { FluxMiniBackend } from './flux-mini/backend.ts';

export type { ModelBackend } from './backend.ts';

export async function loadDefaultBackend(opts: { threads?: number } = {}): Promise<ModelBackend> {
  return FluxMiniBackend.load(opts);
}
