// Merging a LoRA into base weights: W' = W + m·(up·down), b' = b + m·bias. For deployment
// without the side branch, or as the reference the fed-scale branch is checked against.

import type { Tensors } from '../tensors.ts';
import { deltaWeight, type Lora } from './lora.ts';

export function mergeLora(weights: Tensors, lora: Lora, strength: number): Tensors {
  const out: Tensors = new Map(weights);
  for (const [path, m] of lora) {
    const w = weights.get(`${path}.weight`);
    if (!w) throw new Error(`mergeLora: the base has no '${path}.weight'`);
    if (w.shape[0] !== m.outFeatures || w.shape[1] !== m.inFeatures) {
      throw new Error(`mergeLora: '${path}' is [${w.shape}], the LoRA is ${m.outFeatures}×${m.inFeatures}`);
    }
    const delta = deltaWeight(m);
    const merged = w.data instanceof Float64Array ? new Float64Array(w.data) : new Float32Array(w.data);
    for (let i = 0; i < merged.length; i++) merged[i]! += strength * delta[i]!;
    out.set(`${path}.weight`, { shape: w.shape, data: merged });
    if (m.bias) {
      const b = weights.get(`${path}.bias`);
      if (!b) throw new Error(`mergeLora: '${path}' has a LoRA bias but no base bias`);
      const mb = b.data instanceof Float64Array ? new Float64Array(b.data) : new Float32Array(b.data);
      for (let i = 0; i < mb.length; i++) mb[i]! += strength * m.bias[i]!;
      out.set(`${path}.bias`, { shape: b.shape, data: mb });
    }
  }
  return out;
}
