// A LoRA in BFL's own semantics, keyed by the BFL module path of the Linear it patches:
// y = W x + b + m · (up (down x) + bias), m the user strength. No α/r: formats that carry one
// have it baked into `up` on import, so every consumer applies the same formula.

import { Graph } from '../../engine/graph.ts';
import type { FluxParams } from '../flux/config.ts';
import { Flux } from '../flux/model.ts';
import { ParamStore } from '../flux/params.ts';

export interface LoraModule {
  rank: number;
  inFeatures: number;
  outFeatures: number;
  /** A / lora_down, [rank, in]. */
  down: Float32Array;
  /** B / lora_up, [out, rank]. */
  up: Float32Array;
  /** lora_B.bias, [out]: added to the layer bias times the strength. */
  bias?: Float32Array;
}

export type Lora = Map<string, LoraModule>;

export interface LinearShape {
  inFeatures: number;
  outFeatures: number;
}

/** Every Linear of a FLUX config, by BFL module path (the LoRA target space). */
export function fluxLinears(params: FluxParams): Map<string, LinearShape> {
  const store = new ParamStore(new Graph(), 'float32');
  new Flux(params, store); // constructors declare every parameter; no forward is built
  const linears = new Map<string, LinearShape>();
  for (const [key, v] of store.params) {
    if (key.endsWith('.weight') && v.rank === 2) {
      linears.set(key.slice(0, -'.weight'.length), { outFeatures: v.shape[0]!, inFeatures: v.shape[1]! });
    }
  }
  return linears;
}

/** Target predicate: every Linear (BFL's FluxLoraWrapper; the reference vectors). */
export const allLinears = (_path: string) => true;

/** Target predicate: the Linears inside the double and single blocks (kohya's default set). */
export const blockLinears = (path: string) => path.startsWith('double_blocks.') || path.startsWith('single_blocks.');

/** ΔW = up · down, [out, in] (times the strength when merging). */
export function deltaWeight(m: LoraModule): Float32Array {
  const { rank: r, inFeatures: nIn, outFeatures: nOut } = m;
  const delta = new Float32Array(nOut * nIn);
  for (let o = 0; o < nOut; o++) {
    const row = delta.subarray(o * nIn, (o + 1) * nIn);
    for (let k = 0; k < r; k++) {
      const u = m.up[o * r + k]!;
      if (u === 0) continue;
      const d = m.down.subarray(k * nIn, (k + 1) * nIn);
      for (let i = 0; i < nIn; i++) row[i]! += u * d[i]!;
    }
  }
  return delta;
}

export function checkModule(path: string, m: LoraModule): void {
  const bad = (what: string) => new Error(`LoRA '${path}': ${what}`);
  if (m.down.length !== m.rank * m.inFeatures) throw bad(`down has ${m.down.length} values, expected ${m.rank}×${m.inFeatures}`);
  if (m.up.length !== m.outFeatures * m.rank) throw bad(`up has ${m.up.length} values, expected ${m.outFeatures}×${m.rank}`);
  if (m.bias && m.bias.length !== m.outFeatures) throw bad(`bias has ${m.bias.length} values, expected ${m.outFeatures}`);
}
