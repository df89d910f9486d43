import type { FinetuneMode, RgbImage } from '../model/backend.ts';
import type { Captioner, ImageCaption } from './captioner.ts';
import { placeTriggerWord } from './trigger-word.ts';

/**
 * user: the .txt beside the image, verbatim. auto: the captioner named the subject. measured: it could
 * not name it and said only what it measured (background, position). trigger_only: nothing but the trigger word.
 */
export type CaptionSource = 'user' | 'auto' | 'measured' | 'trigger_only';

export interface TrainingCaption {
  file: string;
  caption: string;
  source: CaptionSource;
  /** The captioner's confidence in what it named (0–1); null for user captions and captioners that give none. */
  confidence: number | null;
}

export interface CaptionInput {
  file: string;
  userCaption: string | null;
  /** Decoded only when auto-captioning needs it. */
  loadImage(): Promise<RgbImage>;
}

/**
 * The captions a finetune trains on: user .txt verbatim, else auto-caption (when enabled) with the trigger word
 * placed per mode. Images are captioned one at a time so `onProgress` (0–1) can follow.
 */
export async function buildTrainingCaptions(
  items: CaptionInput[],
  opts: { mode: FinetuneMode; triggerWord: string; captioning: boolean; onProgress?: (done: number) => void },
  captioner: Captioner,
): Promise<TrainingCaption[]> {
  const needAuto = opts.captioning ? items.filter((i) => i.userCaption === null) : [];
  const auto = new Map<string, ImageCaption>();
  for (const [k, item] of needAuto.entries()) {
    const [caption] = await captioner.caption([await item.loadImage()], opts.mode);
    if (caption) auto.set(item.file, caption);
    opts.onProgress?.((k + 1) / needAuto.length);
  }
  return items.map((item) => {
    if (item.userCaption !== null) return { file: item.file, caption: item.userCaption, source: 'user', confidence: null };
    const described = auto.get(item.file) ?? null;
    const source: CaptionSource = described?.text ? 'auto' : described?.layout || described?.background ? 'measured' : 'trigger_only';
    return {
      file: item.file,
      caption: placeTriggerWord(opts.mode, opts.triggerWord, described),
      source,
      confidence: described?.confidence ?? null,
    };
  });
}
