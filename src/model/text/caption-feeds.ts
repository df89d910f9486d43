// The three per-position arrays the text encoder reads for one caption. Pretraining batches them and
// the inference session feeds one at a time; both build them here so the encoder sees the same input.

import { tokenize, wordIds, wordWeights } from './tokenizer.ts';

export interface CaptionFeeds {
  /** [max_bytes] int64 byte-level token ids */
  ids: BigInt64Array;
  /** [max_bytes] int64 word hash buckets, zeros when the encoder has no word table */
  words: BigInt64Array;
  /** [max_bytes] 1 / word length at each word position, 0 elsewhere */
  weights: Float32Array;
}

export function captionFeeds(caption: string, maxBytes: number, wordBuckets?: number): CaptionFeeds {
  return {
    ids: BigInt64Array.from(tokenize(caption, maxBytes), BigInt),
    words: wordBuckets ? BigInt64Array.from(wordIds(caption, maxBytes, wordBuckets), BigInt) : new BigInt64Array(maxBytes),
    weights: wordWeights(caption, maxBytes),
  };
}
