// CLIPAttention (modeling_clip.py, the eager path): q_proj(x) · head_dim^−0.5 ("query_states =
// self.q_proj(hidden_states) * self.scale"), k_proj, v_proj (all with bias), scores q·kᵀ plus the
// causal mask, softmax, then out_proj. FLUX passes no padding mask, so the causal mask is the only one.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { ClipTextConfig } from './config.ts';
import { Linear } from './linear.ts';
import type { TextParamStore } from './params.ts';

export class ClipAttention {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;
  readonly heads: number;

  constructor(store: TextParamStore, path: string, config: ClipTextConfig) {
    const d = config.hidden_size;
    this.heads = config.num_attention_heads;
    this.qProj = new Linear(store, `${path}.q_proj`, d, d, true);
    this.kProj = new Linear(store, `${path}.k_proj`, d, d, true);
    this.vProj = new Linear(store, `${path}.v_proj`, d, d, true);
    this.outProj = new Linear(store, `${path}.out_proj`, d, d, true);
  }

  /** x [B, L, hidden], causalMask [1, 1, L, L] (0 on and below the diagonal, float min above) → [B, L, hidden]. */
  forward(x: Value, causalMask: Value): Value {
    const [B, L, d] = x.shape as [number, number, number];
    const D = d / this.heads;
    const heads = (t: Value) => F.transpose(F.reshape(t, [B, L, this.heads, D]), [0, 2, 1, 3]);
    const q = heads(F.mul(this.qProj.forward(x), D ** -0.5));
    const kT = F.transpose(F.reshape(this.kProj.forward(x), [B, L, this.heads, D]), [0, 2, 3, 1]);
    const v = heads(this.vProj.forward(x));
    const probs = F.softmax(F.add(F.matmul(q, kT), causalMask), -1);
    return this.outProj.forward(F.reshape(F.transpose(F.matmul(probs, v), [0, 2, 1, 3]), [B, L, d]));
  }
}
