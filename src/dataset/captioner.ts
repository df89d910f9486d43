import type { FinetuneMode, ModelBackend, RgbImage } from '../model/backend.ts';

/** Describes images without the trigger word; placeTriggerWord adds it per mode. null = no caption. */
export interface Captioner {
  readonly name: string;
  caption(images: RgbImage[], mode: FinetuneMode): Promise<(string | null)[]>;
}

/** The model's own captioner (for flux-mini: ranks candidate captions by denoising loss). Needs no download. */
export function backendCaptioner(backend: Pick<ModelBackend, 'caption' | 'name'>): Captioner {
  return {
    name: `${backend.name} (built-in)`,
    caption: (images) => backend.caption(images),
  };
}
