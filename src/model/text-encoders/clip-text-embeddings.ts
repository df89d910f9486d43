// CLIPTextEmbeddings (modeling_clip.py): token_embedding(ids) + position_embedding(0..L−1), both
// learned tables under `text_model.embeddings.*`. The checkpoint may also hold the
// `position_ids` buffer (older saves); it is arange, so the loader ignores it (weights.ts).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { ClipTextConfig } from './config.ts';
import type { TextParamStore } from './params.ts';

export class ClipTextEmbeddings {
  readonly tokenEmbedding: Value;
  readonly positionEmbedding: Value;

  constructor(
    store: TextParamStore,
    path: string,
    readonly config: ClipTextConfig,
  ) {
    this.tokenEmbedding = store.param(`${path}.token_embedding.weight`, [config.vocab_size, config.hidden_size]);
    this.positionEmbedding = store.param(`${path}.position_embedding.weight`, [config.max_position_embeddings, config.hidden_size]);
  }

  /** ids int64 [B, L] → [B, L, hidden]; L may not exceed max_position_embeddings (HF raises too). */
  forward(inputIds: Value): Value {
    const L = inputIds.shape[1]!;
    if (L > this.config.max_position_embeddings)
      throw new Error(`CLIP: sequence length ${L} exceeds max_position_embeddings ${this.config.max_position_embeddings}`);
    const positions = L === this.config.max_position_embeddings ? this.positionEmbedding : F.slice(this.positionEmbedding, 0, 0, L);
    return F.add(F.gather(this.tokenEmbedding, inputIds, 0), positions);
  }
}
