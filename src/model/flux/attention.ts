// Joint attention and the per-stream SelfAttention weights. Tokens stay in [B, L, heads, D]
// until the product itself so QK-norm, RoPE and the text/image concatenation need no extra
// transposes; the product runs as batched matmuls over [B, heads, L, D].

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { Linear } from './linear.ts';
import { QKNorm } from './norms.ts';
import type { ParamStore } from './params.ts';
import { applyRope } from './rope.ts';

/** The fed RoPE tables, [B, L, 1, D] each, text tokens first (see rope.ts). */
export interface PositionEmbedding {
  cos: Value;
  sin: Value;
}

/**
 * softmax(q kᵀ / √D) v over all tokens (no mask), after rotating q and k.
 * q, k, v: [B, L, heads, D] → [B, L, heads·D] with heads concatenated head-major.
 */
export function attention(q: Value, k: Value, v: Value, pe: PositionEmbedding): Value {
  const [B, L, heads, D] = q.shape as [number, number, number, number];
  // Scaling q (L·D values) is cheaper than scaling the scores (L·L).
  const qh = F.transpose(F.mul(applyRope(q, pe.cos, pe.sin), 1 / Math.sqrt(D)), [0, 2, 1, 3]);
  const kt = F.transpose(applyRope(k, pe.cos, pe.sin), [0, 2, 3, 1]);
  const vh = F.transpose(v, [0, 2, 1, 3]);
  const probs = F.softmax(F.matmul(qh, kt), -1);
  return F.reshape(F.transpose(F.matmul(probs, vh), [0, 2, 1, 3]), [B, L, heads * D]);
}

/**
 * Splits fused qkv features [B, L, 3H] into q, k, v [B, L, heads, D] — BFL's `(K H D)` layout:
 * [q all heads | k all heads | v all heads], head-major inside each.
 */
export function splitHeads(qkv: Value, heads: number): [Value, Value, Value] {
  const [B, L, H3] = qkv.shape as [number, number, number];
  const H = H3 / 3;
  return F.split(qkv, [H, H, H], -1).map((t) => F.reshape(t, [B, L, heads, H / heads])) as [Value, Value, Value];
}

export class SelfAttention {
  readonly qkv: Linear;
  readonly norm: QKNorm;
  readonly proj: Linear;

  constructor(
    store: ParamStore,
    path: string,
    hidden: number,
    readonly heads: number,
    qkvBias: boolean,
  ) {
    this.qkv = new Linear(store, `${path}.qkv`, hidden, 3 * hidden, qkvBias);
    this.norm = new QKNorm(store, `${path}.norm`, hidden / heads);
    this.proj = new Linear(store, `${path}.proj`, hidden, hidden);
  }

  /** q, k (QK-normed) and v for x [B, L, H], each [B, L, heads, D]. */
  project(x: Value): [Value, Value, Value] {
    const [q, k, v] = splitHeads(this.qkv.forward(x), this.heads);
    const [qn, kn] = this.norm.forward(q, k);
    return [qn, kn, v];
  }
}
