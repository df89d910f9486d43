// T5EncoderModel: the token embedding `shared.weight` [vocab, d_model] and the `encoder` stack.
// HF ties `encoder.embed_tokens.weight` to `shared.weight` (one Parameter); checkpoints hold
// one or both names, so the graph declares `shared.weight` only and the loader accepts either
// (weights.ts). Ids are looked up unscaled (no √d_model factor in T5).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { T5Config } from './config.ts';
import type { TextParamStore } from './params.ts';
import { type BlockRange, T5Stack } from './t5-stack.ts';

export const T5_SHARED = 'shared.weight';
export const T5_EMBED_TOKENS = 'encoder.embed_tokens.weight';

export class T5EncoderModel {
  readonly shared: Value | undefined;
  readonly encoder: T5Stack;

  constructor(
    store: TextParamStore,
    readonly config: T5Config,
    range?: BlockRange,
  ) {
    this.encoder = new T5Stack(store, 'encoder', config, range);
    this.shared = this.encoder.range.start === 0 ? store.param(T5_SHARED, [config.vocab_size, config.d_model]) : undefined;
  }

  /** input_ids int64 [B, L] → last_hidden_state [B, L, d_model] (the whole stack). */
  forward(inputIds: Value): Value {
    return this.encoder.forward(this.embed(inputIds));
  }

  embed(inputIds: Value): Value {
    if (!this.shared) throw new Error('T5EncoderModel: this block range has no embedding');
    return F.gather(this.shared, inputIds, 0);
  }
}
