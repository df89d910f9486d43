import type { ModelBackend } from './backend.ts';

export async function loadDefaultBackend(): Promise<ModelBackend> {
  throw new Error('flux-mini backend not built yet');
}
