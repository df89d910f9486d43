// flux-mini's text encoder, standing where FLUX has T5 (sequence `txt`) and CLIP (pooled `y`): a small
// pre-LN transformer over UTF-8 bytes, trained jointly with the diffusion model. Adjacent byte
// positions are then merged pairwise, so 64 bytes of caption cost FLUX only 32 text tokens.
// Like FLUX's encoders it runs without attention masks; padding is just another byte.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { VOCAB_SIZE } from './tokenizer.ts';

export interface TextEncoderConfig {
  /** Bytes per caption, including BOS/EOS/padding. */
  max_bytes: number;
  width: number;
  heads: number;
  layers: number;
  mlp_ratio: number;
  /** Adjacent positions merged into one output token (txt feature size = width · merge). */
  merge: number;
  /** Hashed word embeddings (tokenizer.ts `wordIds`) added to the byte embeddings; 0/absent = bytes only. */
  word_buckets?: number;
  /**
   * Adds a bag of per-word vectors (one per hash bucket, each word counted once) to the pooled `y`, as
   * CLIP's pooled embedding carries the caption's concepts into FLUX's modulation (and a class
   * embedding does in DiT). Needs word_buckets.
   */
  pooled_words?: boolean;
}

export const TEXT_PREFIX = 'text_encoder';

export type ParamFn = (name: string, shape: number[]) => Value;

export function textEncoderShapes(c: TextEncoderConfig): Record<string, number[]> {
  const W = c.width;
  const M = W * c.mlp_ratio;
  const shapes: Record<string, number[]> = {
    [`${TEXT_PREFIX}.token_embedding.weight`]: [VOCAB_SIZE, W],
    [`${TEXT_PREFIX}.position_embedding.weight`]: [c.max_bytes, W],
    ...(c.word_buckets ? { [`${TEXT_PREFIX}.word_embedding.weight`]: [c.word_buckets, W] } : {}),
    ...(c.word_buckets && c.pooled_words ? { [`${TEXT_PREFIX}.word_vector.weight`]: [c.word_buckets, W] } : {}),
    [`${TEXT_PREFIX}.final_norm.weight`]: [W],
    [`${TEXT_PREFIX}.final_norm.bias`]: [W],
  };
  for (let i = 0; i < c.layers; i++) {
    const p = `${TEXT_PREFIX}.layers.${i}`;
    Object.assign(shapes, {
      [`${p}.norm1.weight`]: [W],
      [`${p}.norm1.bias`]: [W],
      [`${p}.attn.qkv.weight`]: [3 * W, W],
      [`${p}.attn.qkv.bias`]: [3 * W],
      [`${p}.attn.proj.weight`]: [W, W],
      [`${p}.attn.proj.bias`]: [W],
      [`${p}.norm2.weight`]: [W],
      [`${p}.norm2.bias`]: [W],
      [`${p}.mlp.0.weight`]: [M, W],
      [`${p}.mlp.0.bias`]: [M],
      [`${p}.mlp.2.weight`]: [W, M],
      [`${p}.mlp.2.bias`]: [W],
    });
  }
  return shapes;
}

export class TextEncoder {
  constructor(
    readonly config: TextEncoderConfig,
    private readonly param: ParamFn,
  ) {}

  private p(name: string): Value {
    const full = `${TEXT_PREFIX}.${name}`;
    return this.param(full, textEncoderShapes(this.config)[full]!);
  }

  /**
   * ids: int64 [B, max_bytes] byte ids, words: int64 [B, max_bytes] word buckets (iff word_buckets),
   * wordWeights: [B, max_bytes] (tokenizer.ts `wordWeights`, iff pooled_words)
   * → txt [B, max_bytes / merge, width · merge], y [B, width].
   */
  forward(ids: Value, words?: Value, wordWeights?: Value): { txt: Value; y: Value } {
    const c = this.config;
    if (Boolean(c.word_buckets) !== Boolean(words)) throw new Error('TextEncoder: word ids are needed exactly when word_buckets is set');
    if (c.pooled_words && !c.word_buckets) throw new Error('TextEncoder: pooled_words needs word_buckets');
    if (Boolean(c.pooled_words) !== Boolean(wordWeights)) throw new Error('TextEncoder: word weights are needed exactly when pooled_words is set');
    const [B, T] = ids.shape as [number, number];
    const W = c.width;
    const D = W / c.heads;
    const g = ids.graph;
    return g.scope(TEXT_PREFIX, () => {
      let h = F.add(F.gather(this.p('token_embedding.weight'), ids), this.p('position_embedding.weight'));
      if (words) h = F.add(h, F.gather(this.p('word_embedding.weight'), words));
      for (let i = 0; i < c.layers; i++) {
        const l = `layers.${i}`;
        h = g.scope(l, () => {
          const a = F.layerNorm(h, 1e-5, this.p(`${l}.norm1.weight`), this.p(`${l}.norm1.bias`));
          const qkv = F.linear(a, this.p(`${l}.attn.qkv.weight`), this.p(`${l}.attn.qkv.bias`));
          const heads = F.transpose(F.reshape(qkv, [B, T, 3, c.heads, D]), [2, 0, 3, 1, 4]);
          const [q, k, v] = F.split(heads, [1, 1, 1], 0).map((t) => F.squeeze(t, 0)) as [Value, Value, Value];
          const scores = F.matmul(F.mul(q, 1 / Math.sqrt(D)), F.transpose(k, [0, 1, 3, 2]));
          const attn = F.reshape(F.transpose(F.matmul(F.softmax(scores, -1), v), [0, 2, 1, 3]), [B, T, W]);
          const x = F.add(h, F.linear(attn, this.p(`${l}.attn.proj.weight`), this.p(`${l}.attn.proj.bias`)));
          const m = F.layerNorm(x, 1e-5, this.p(`${l}.norm2.weight`), this.p(`${l}.norm2.bias`));
          const mlp = F.linear(
            F.gelu(F.linear(m, this.p(`${l}.mlp.0.weight`), this.p(`${l}.mlp.0.bias`)), 'tanh'),
            this.p(`${l}.mlp.2.weight`),
            this.p(`${l}.mlp.2.bias`),
          );
          return F.add(x, mlp);
        });
      }
      const out = F.layerNorm(h, 1e-5, this.p('final_norm.weight'), this.p('final_norm.bias'));
      const txt = F.reshape(out, [B, T / c.merge, W * c.merge]);
      let y = F.reduceMean(out, 1, false);
      if (words && wordWeights) {
        const vectors = F.gather(this.p('word_vector.weight'), words);
        y = F.add(y, F.reduceSum(F.mul(vectors, F.unsqueeze(wordWeights, 2)), 1, false));
      }
      return { txt, y };
    });
  }
}
