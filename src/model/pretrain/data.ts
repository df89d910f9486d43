// Pretraining batches: random captioned scenes rendered at one of the training resolutions and packed
// into patch tokens. Reproducible from the RNG state alone, so a resumed run sees the same stream.

import type { Rng } from '../../engine/rng.ts';
import { imageToTokens } from '../codec/patches.ts';
import { captionFeeds } from '../text/caption-feeds.ts';
import { randomScene, renderScene, type Sprite, shapeScene } from './scenes.ts';

/** The procedural shapes a batch may draw instead of an emoji scene (shapes.ts). */
export interface ShapeSource {
  names: readonly string[];
  /** The colours of a shape, which its background must avoid. */
  colours: (name: string) => readonly string[];
  /** Fraction of a batch's samples that are shape scenes. */
  share: number;
}

export interface SceneBatch {
  size: number;
  /** [B, L, 3·p²] clean tokens, one array per sample. */
  x0: Float32Array[];
  /** [B · max_bytes] int64 token ids. */
  ids: BigInt64Array;
  /** [B · max_bytes] int64 word buckets (zeros when the encoder has none). */
  words: BigInt64Array;
  /** [B · max_bytes] per-position word weights (caption-feeds.ts). */
  wordWeights: Float32Array;
  captions: string[];
}

export function sceneBatch(
  rng: Rng,
  sprites: ReadonlyMap<string, Sprite>,
  concepts: readonly string[],
  o: { batch: number; size: number; patch: number; maxBytes: number; wordBuckets?: number; captionDropout: number; shapes?: ShapeSource },
): SceneBatch {
  const x0: Float32Array[] = [];
  const ids = new BigInt64Array(o.batch * o.maxBytes);
  const words = new BigInt64Array(o.batch * o.maxBytes);
  const weights = new Float32Array(o.batch * o.maxBytes);
  const captions: string[] = [];
  for (let b = 0; b < o.batch; b++) {
    const shapes = o.shapes;
    const { spec, caption } =
      shapes && shapes.share > 0 && rng.uniform() < shapes.share
        ? shapeScene(rng, shapes.names, shapes.colours, o.captionDropout)
        : randomScene(rng, concepts, o.captionDropout);
    x0.push(imageToTokens(renderScene(spec, sprites, o.size, o.size), o.patch));
    const feeds = captionFeeds(caption, o.maxBytes, o.wordBuckets);
    ids.set(feeds.ids, b * o.maxBytes);
    words.set(feeds.words, b * o.maxBytes);
    weights.set(feeds.weights, b * o.maxBytes);
    captions.push(caption);
  }
  return { size: o.size, x0, ids, words, wordWeights: weights, captions };
}
