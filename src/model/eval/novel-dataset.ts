// A novel concept's training set as a user would upload it: 8 photos, 3 with their own caption
// ("a photo of TOK <noun>"), the rest left to the captioner. Seeded per concept.

import { Rng } from '../../engine/rng.ts';
import type { RgbImage } from '../backend.ts';
import { type NovelConcept, renderNovelPhoto } from './novel-concepts.ts';

export const NOVEL_IMAGES = 8;
export const NOVEL_USER_CAPTIONS = 3;

export interface NovelExample {
  image: RgbImage;
  /** The user's caption, or null (auto-captioned). */
  userCaption: string | null;
  background: string | null;
}

export async function novelDataset(concept: NovelConcept, index: number, trigger = 'TOK'): Promise<NovelExample[]> {
  const rng = new Rng(9100 + index);
  const out: NovelExample[] = [];
  for (let i = 0; i < NOVEL_IMAGES; i++) {
    const { image, background } = await renderNovelPhoto(concept, rng);
    out.push({ image, background, userCaption: i < NOVEL_USER_CAPTIONS ? `a photo of ${trigger} ${concept.noun}` : null });
  }
  return out;
}
