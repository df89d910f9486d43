import type { FinetuneMode, ImageCaption, ModelBackend, RgbImage } from '../model/backend.ts';

export type { ImageCaption } from '../model/backend.ts';

/** Describes images without the trigger word; placeTriggerWord adds it per mode. */
export interface Captioner {
  readonly name: string;
  caption(images: RgbImage[], mode: FinetuneMode): Promise<ImageCaption[]>;
}

/** The model's own captioner (for flux-mini: ranks candidate captions by denoising loss, names only what it is sure of). Needs no download. */
export function backendCaptioner(backend: Pick<ModelBackend, 'caption' | 'name'>): Captioner {
  return {
    name: `${backend.name} (built-in)`,
    caption: (images) => backend.caption(images),
  };
}

/** A free-text caption from a captioner that gives no confidence (an external vision model). */
export function freeTextCaption(text: string | null): ImageCaption {
  return { text, layout: null, background: null, confidence: null };
}
