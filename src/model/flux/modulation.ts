// adaLN-Zero modulation: lin(SiLU(vec)) chunked as (shift, scale, gate) — two triples for the
// double-stream blocks, one for the single-stream blocks.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { Linear } from './linear.ts';
import type { ParamStore } from './params.ts';

export interface ModulationOut {
  /** Each [B, 1, H], broadcasting over tokens. */
  shift: Value;
  scale: Value;
  gate: Value;
}

export class Modulation {
  readonly lin: Linear;
  readonly multiplier: number;

  constructor(store: ParamStore, path: string, hidden: number, double: boolean) {
    this.multiplier = double ? 6 : 3;
    this.lin = new Linear(store, `${path}.lin`, hidden, this.multiplier * hidden);
  }

  /** `vecAct` is SiLU(vec): every consumer applies the same SiLU, so the model computes it once. */
  forward(vecAct: Value): ModulationOut[] {
    const H = this.lin.inFeatures;
    const out = F.unsqueeze(this.lin.forward(vecAct), 1);
    const chunks = F.split(out, new Array<number>(this.multiplier).fill(H), -1);
    const triples: ModulationOut[] = [];
    for (let i = 0; i < chunks.length; i += 3) {
      triples.push({ shift: chunks[i]!, scale: chunks[i + 1]!, gate: chunks[i + 2]! });
    }
    return triples;
  }
}

/** (1 + scale) ⊙ LN(x) + shift, with FLUX's affine-free LayerNorm (eps 1e-6). */
export function modulatedNorm(x: Value, m: { shift: Value; scale: Value }): Value {
  return F.add(F.mul(F.layerNorm(x, 1e-6), F.add(m.scale, 1)), m.shift);
}
