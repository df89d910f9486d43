// Is a sample of "a <concept> on a <colour> background" recognisably that concept? Ranks every
// concept of the vocabulary by how close its real emoji, rendered centred on the same background
// at the training sizes, comes to the sample in the fixed feature space of similarity.ts. The rank
// of the prompted concept (0 = best) gives top-1/top-5 recognition rates; chance is 1/N and 5/N.
// Being independent of the model, it cannot be flattered by it.

import type { RgbImage } from '../backend.ts';
import { CENTRED_SIZE, renderScene, type Sprite } from '../pretrain/scenes.ts';
import { features, similarity } from './similarity.ts';

/** The smallest, middle and largest size centred training scenes use. */
const SIZES = [0, 0.5, 1].map((u) => CENTRED_SIZE.min + CENTRED_SIZE.span * u);

export class ConceptGallery {
  private readonly cache = new Map<string, Map<string, Float32Array[]>>();

  constructor(
    private readonly sprites: ReadonlyMap<string, Sprite>,
    readonly concepts: readonly string[] = [...sprites.keys()],
  ) {}

  private references(background: string, width: number, height: number): Map<string, Float32Array[]> {
    const key = `${background}/${width}x${height}`;
    let refs = this.cache.get(key);
    if (!refs) {
      refs = new Map();
      for (const c of this.concepts) {
        refs.set(
          c,
          SIZES.map((size) => features(renderScene({ background, objects: [{ concept: c, cx: 0.5, cy: 0.5, size }] }, this.sprites, width, height))),
        );
      }
      this.cache.set(key, refs);
    }
    return refs;
  }

  /** 0-based rank of `concept` among all concepts for this sample (ties count against it). */
  rank(sample: RgbImage, concept: string, background: string): number {
    const refs = this.references(background, sample.width, sample.height);
    const f = features(sample);
    const score = (c: string) => Math.max(...refs.get(c)!.map((r) => similarity(f, r)));
    const own = score(concept);
    let rank = 0;
    for (const c of this.concepts) if (c !== concept && score(c) >= own) rank++;
    return rank;
  }
}

export interface RecognitionSummary {
  samples: number;
  concepts: number;
  top1: number;
  top5: number;
  median_rank: number;
}

export function summariseRanks(ranks: readonly number[], concepts: number): RecognitionSummary {
  const sorted = [...ranks].sort((a, b) => a - b);
  return {
    samples: ranks.length,
    concepts,
    top1: +(ranks.filter((r) => r < 1).length / ranks.length).toFixed(3),
    top5: +(ranks.filter((r) => r < 5).length / ranks.length).toFixed(3),
    median_rank: sorted[Math.floor(sorted.length / 2)]!,
  };
}
