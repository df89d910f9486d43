// Conditioning embedders: the sinusoidal timestep embedding and BFL's MLPEmbedder
// (time_in, vector_in, guidance_in).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { Linear } from './linear.ts';
import type { ParamStore } from './params.ts';
import { torchExpf } from './torch-expf.ts';

/**
 * BFL's `timestep_embedding`: t [B] → [B, dim] with cos first, then sin, and t scaled by
 * `timeFactor` (1000) — guidance values go through the same ×1000.
 */
export function timestepEmbedding(t: Value, dim = 256, maxPeriod = 10000, timeFactor = 1000): Value {
  const half = Math.floor(dim / 2);
  // The reference computes the frequencies and the arguments in float32 whatever t's dtype
  // (`t.float() * freqs`). Rounding the same way matters: with guidance ×1000 = 3500, one
  // float32 ulp of a frequency moves the angle by ~1e-4 (see torch-expf.ts).
  const g = t.graph;
  const lnP = Math.fround(-Math.log(maxPeriod));
  const freqs = new Float32Array(half).map((_, k) => torchExpf(Math.fround(lnP * k) / half));
  const scaled = F.cast(F.mul(t, timeFactor), 'float32');
  const args32 = F.mul(F.unsqueeze(scaled, 1), F.tensor(g, freqs, [1, half], 'float32'));
  const args = F.cast(args32, t.dtype);
  let emb = F.concat([F.cos(args), F.sin(args)], 1);
  if (dim % 2) emb = F.pad(emb, [0, 0], [0, 1]);
  return emb;
}

/** out_layer(SiLU(in_layer(x))). */
export class MLPEmbedder {
  readonly inLayer: Linear;
  readonly outLayer: Linear;

  constructor(store: ParamStore, path: string, inDim: number, hiddenDim: number) {
    this.inLayer = new Linear(store, `${path}.in_layer`, inDim, hiddenDim);
    this.outLayer = new Linear(store, `${path}.out_layer`, hiddenDim, hiddenDim);
  }

  forward(x: Value): Value {
    return this.outLayer.forward(F.silu(this.inLayer.forward(x)));
  }
}
