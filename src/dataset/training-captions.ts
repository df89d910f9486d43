import type { FinetuneMode, RgbImage } from '../model/backend.ts';
import type { Captioner } from './captioner.ts';
import { placeTriggerWord } from './trigger-word.ts';

export type CaptionSource = 'user' | 'auto' | 'trigger_only';

export interface TrainingCaption {
  file: string;
  caption: string;
  source: CaptionSource;
}

export interface CaptionInput {
  file: string;
  userCaption: string | null;
  /** Decoded only when auto-captioning needs it. */
  loadImage(): Promise<RgbImage>;
}

/** The captions a finetune trains on: user .txt verbatim, else auto-caption (when enabled) with the trigger word placed per mode. */
export async function buildTrainingCaptions(
  items: CaptionInput[],
  opts: { mode: FinetuneMode; triggerWord: string; captioning: boolean },
  captioner: Captioner,
): Promise<TrainingCaption[]> {
  const needAuto = opts.captioning ? items.filter((i) => i.userCaption === null) : [];
  const auto = new Map<string, string | null>();
  if (needAuto.length > 0) {
    const images = await Promise.all(needAuto.map((i) => i.loadImage()));
    const captions = await captioner.caption(images, opts.mode);
    needAuto.forEach((item, k) => {
      auto.set(item.file, captions[k] ?? null);
    });
  }
  return items.map((item) => {
    if (item.userCaption !== null) return { file: item.file, caption: item.userCaption, source: 'user' };
    const described = auto.get(item.file) ?? null;
    return {
      file: item.file,
      caption: placeTriggerWord(opts.mode, opts.triggerWord, described),
      source: described ? 'auto' : 'trigger_only',
    };
  });
}
