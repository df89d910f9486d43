// SingleStreamBlock ("parallel" ViT-22B style): one fused projection produces q, k, v and the
// MLP input, one fused projection maps [attention | GELU(mlp)] back to the hidden size.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { attention, type PositionEmbedding, splitHeads } from './attention.ts';
import { Linear } from './linear.ts';
import { Modulation, type ModulationOut, modulatedNorm } from './modulation.ts';
import { QKNorm } from './norms.ts';
import type { ParamStore } from './params.ts';

export class SingleStreamBlock {
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm: QKNorm;
  readonly modulation: Modulation;

  constructor(
    store: ParamStore,
    readonly path: string,
    readonly hidden: number,
    readonly heads: number,
    readonly mlpHidden: number,
  ) {
    // linear1 always has a bias: the reference ignores qkv_bias here.
    this.linear1 = new Linear(store, `${path}.linear1`, hidden, 3 * hidden + mlpHidden);
    this.linear2 = new Linear(store, `${path}.linear2`, hidden + mlpHidden, hidden);
    this.norm = new QKNorm(store, `${path}.norm`, hidden / heads);
    this.modulation = new Modulation(store, `${path}.modulation`, hidden, false);
  }

  forward(x: Value, vecAct: Value, pe: PositionEmbedding): Value {
    const [mod] = this.modulation.forward(vecAct) as [ModulationOut];
    const fused = this.linear1.forward(modulatedNorm(x, mod));
    const [qkv, mlp] = F.split(fused, [3 * this.hidden, this.mlpHidden], -1) as [Value, Value];
    const [q, k, v] = splitHeads(qkv, this.heads);
    const [qn, kn] = this.norm.forward(q, k);
    const attn = attention(qn, kn, v, pe);
    const out = this.linear2.forward(F.concat([attn, F.gelu(mlp, 'tanh')], -1));
    return F.add(x, F.mul(mod.gate, out));
  }
}
