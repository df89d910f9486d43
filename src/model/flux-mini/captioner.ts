// flux-mini's built-in captioner, which needs no download. It measures what it can without knowing
// what the image shows (a plain background's colour, where the subject sits: image-layout.ts), and
// names a subject only when flux-mini, used as a diffusion classifier (caption-scores.ts), is sure:
// the best candidate caption must predict the added noise clearly better than no caption at all and
// clearly better than the runner-up. Otherwise it names nothing, so a finetune of a concept flux-mini
// has never seen binds the trigger word to the picture, not to a wrong word. The thresholds were
// calibrated by `npm run calibrate:captioner` (figures in the model card).

import type { ImageCaption, RgbImage } from '../backend.ts';
import { type CaptionModel, captionScores } from './caption-scores.ts';
import { layoutPhrase, objectCaption } from './caption-vocabulary.ts';
import { foregroundBox, plainBackground, positionPhrase } from './image-layout.ts';

export type { CaptionModel } from './caption-scores.ts';

/** Relative error reduction of the best caption over the empty one that makes confidence 0.5. */
export const GAIN_AT_HALF = 0.1;
/** Relative error gap between the best and second-best caption that makes confidence 0.5. */
export const MARGIN_AT_HALF = 0.15;
/** A subject is named at this confidence or above. */
export const NAMING_CONFIDENCE = 0.5;

export interface CaptionEvidence {
  best: string;
  /** (error without caption − best error) / error without caption */
  gain: number;
  /** (second-best error − best error) / best error */
  margin: number;
}

/** 0–1, monotone in both; 0.5 exactly where both reach their calibrated thresholds. */
export function captionConfidence(e: Pick<CaptionEvidence, 'gain' | 'margin'>): number {
  const worst = Math.min(e.gain / GAIN_AT_HALF, e.margin / MARGIN_AT_HALF);
  return Math.max(0, Math.min(1, worst / 2));
}

/** The classifier's evidence for the best of `concepts`, scored in the caption form pretraining used for this layout. */
export async function conceptEvidence(
  model: CaptionModel,
  image: RgbImage,
  concepts: readonly string[],
  background: string,
  position: string | null,
): Promise<CaptionEvidence> {
  const captions = [...concepts.map((c) => objectCaption(c, background, position)), ''];
  const scores = await captionScores(model, image, captions);
  const uncaptioned = scores[concepts.length]!;
  const order = concepts.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const first = scores[order[0]!]!;
  const second = order.length > 1 ? scores[order[1]!]! : uncaptioned;
  return { best: concepts[order[0]!]!, gain: (uncaptioned - first) / uncaptioned, margin: (second - first) / first };
}

export async function captionImages(model: CaptionModel, images: readonly RgbImage[], concepts: readonly string[]): Promise<ImageCaption[]> {
  const out: ImageCaption[] = [];
  for (const image of images) out.push((await describeImage(model, image, concepts)).caption);
  return out;
}

/** One image's caption, with the classifier's evidence behind it (null where the classifier was not asked). */
export async function describeImage(
  model: CaptionModel,
  image: RgbImage,
  concepts: readonly string[],
): Promise<{ caption: ImageCaption; evidence: CaptionEvidence | null }> {
  const background = plainBackground(image);
  const box = background ? foregroundBox(image) : null;
  const position = box ? positionPhrase(box) : null;
  const layout = background ? layoutPhrase(background, position) : null;
  // flux-mini has only ever seen plain backgrounds: on a busy one (a photo) its verdict means nothing.
  if (!background || !box || concepts.length === 0) return { caption: { text: null, layout, background, confidence: null }, evidence: null };
  const evidence = await conceptEvidence(model, image, concepts, background, position);
  const confidence = +captionConfidence(evidence).toFixed(3);
  const text = confidence >= NAMING_CONFIDENCE ? objectCaption(evidence.best, background, position) : null;
  return { caption: { text, layout, background, confidence }, evidence };
}
