// Feeding a LoRA into a graph built with LoRA branches (params.ts): the strength is the fed
// `lora_scale`, the factors are fed too, so one session serves any LoRA whose modules fit its
// branches — and the base model (no LoRA: zeros at strength 0).

import type { DType, TypedArray } from '../../engine/dtype.ts';
import type { Feeds } from '../../engine/session.ts';
import { LORA_SCALE_INPUT, type ParamStore } from '../flux/params.ts';
import { asDType } from '../tensors.ts';
import type { Lora, LoraModule } from './lora.ts';

/**
 * A module of rank r fills the first r rows of the graph's down and the first r columns of its
 * up (rank padding with zeros is exact); modules the LoRA lacks get zeros.
 */
function factor(key: string, shape: readonly number[], m: LoraModule | undefined, dtype: DType): TypedArray {
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
  if (m) {
    if (key.endsWith('.lora_B.bias')) {
      if (m.bias) out.set(m.bias);
    } else {
      const graphRank = key.endsWith('.lora_A.weight') ? shape[0]! : shape[1]!;
      if (m.rank > graphRank) throw new Error(`LoRA '${key}': rank ${m.rank} exceeds the session's ${graphRank}`);
      if (key.endsWith('.lora_A.weight')) out.set(m.down);
      else for (let o = 0; o < m.outFeatures; o++) out.set(m.up.subarray(o * m.rank, (o + 1) * m.rank), o * graphRank);
    }
  }
  return asDType(out, dtype);
}

export function loraFeeds(store: ParamStore, lora: Lora | undefined, strength: number): Feeds {
  if (!store.loraParams.size) {
    if (lora?.size) throw new Error('loraFeeds: this graph was built without LoRA branches');
    return {};
  }
  const paths = new Set<string>();
  const feeds: Feeds = {};
  for (const [key, v] of store.loraParams) {
    const path = key.replace(/\.lora_[AB]\.(weight|bias)$/, '');
    paths.add(path);
    feeds[key] = factor(key, v.shape, lora?.get(path), store.dtype);
  }
  for (const [path, m] of lora ?? []) {
    if (!paths.has(path)) throw new Error(`loraFeeds: the session has no LoRA branch on '${path}'`);
    if (m.bias && !store.loraParams.has(`${path}.lora_B.bias`)) throw new Error(`loraFeeds: the session's '${path}' branch has no bias input`);
  }
  feeds[LORA_SCALE_INPUT] = asDType([lora ? strength : 0], store.dtype);
  return feeds;
}
