// T5Attention (modeling_t5.py) as the encoder uses it: bias-free q, k, v, o projections to
// num_heads × d_kv, scores q·kᵀ with NO 1/√d_kv scaling (Mesh TensorFlow folds it into q's
// initialisation), plus the relative position bias, softmax in float32
// (`softmax(scores.float(), dim=-1).type_as(scores)`), then o. Only block 0 owns the bias table
// `relative_attention_bias.weight` [num_buckets, num_heads]; T5Stack hands the bias it computed
// to every later block. FLUX calls the encoder with attention_mask=None, which T5Stack turns into
// an all-ones mask, i.e. adds nothing: no mask here.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { T5Config } from './config.ts';
import { Linear } from './linear.ts';
import type { TextParamStore } from './params.ts';
import { relativeBuckets } from './relative-position.ts';

export class T5Attention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly relativeAttentionBias: Value | undefined;

  constructor(
    store: TextParamStore,
    path: string,
    readonly config: T5Config,
    hasRelativeAttentionBias: boolean,
  ) {
    const inner = config.num_heads * config.d_kv;
    this.q = new Linear(store, `${path}.q`, config.d_model, inner, false);
    this.k = new Linear(store, `${path}.k`, config.d_model, inner, false);
    this.v = new Linear(store, `${path}.v`, config.d_model, inner, false);
    this.o = new Linear(store, `${path}.o`, inner, config.d_model, false);
    this.relativeAttentionBias = hasRelativeAttentionBias
      ? store.param(`${path}.relative_attention_bias.weight`, [config.relative_attention_num_buckets, config.num_heads])
      : undefined;
  }

  /** compute_bias(L, L) of the layer that owns the table. */
  computeBias(length: number): Value {
    if (!this.relativeAttentionBias) throw new Error('T5Attention: only the layer with relative_attention_bias computes the position bias');
    return computePositionBias(this.relativeAttentionBias, length, this.config);
  }

  /** x [B, L, d_model], positionBias [1, heads, L, L] → [B, L, d_model]. */
  forward(x: Value, positionBias: Value): Value {
    const [B, L] = x.shape as [number, number];
    const { num_heads: H, d_kv: D } = this.config;
    const heads = (t: Value) => F.transpose(F.reshape(t, [B, L, H, D]), [0, 2, 1, 3]);
    const q = heads(this.q.forward(x));
    const kT = F.transpose(F.reshape(this.k.forward(x), [B, L, H, D]), [0, 2, 3, 1]);
    const v = heads(this.v.forward(x));
    const scores = F.add(F.matmul(q, kT), positionBias);
    const probs = x.dtype === 'float16' ? F.cast(F.softmax(F.cast(scores, 'float32'), -1), x.dtype) : F.softmax(scores, -1);
    const out = F.reshape(F.transpose(F.matmul(probs, v), [0, 2, 1, 3]), [B, L, H * D]);
    return this.o.forward(out);
  }
}

/** compute_bias(L, L): the table [num_buckets, heads] gathered at the bidirectional buckets, [1, heads, L, L]. */
export function computePositionBias(table: Value, length: number, c: T5Config): Value {
  const buckets = relativeBuckets(length, length, true, c.relative_attention_num_buckets, c.relative_attention_max_distance);
  const values = F.gather(table, F.tensor(table.graph, buckets, [length, length], 'int64'), 0); // [L, L, heads]
  return F.unsqueeze(F.transpose(values, [2, 0, 1]), 0);
}
