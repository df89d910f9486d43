// Initial LoRA factors for training: down uniform in ±1/√in (kaiming-uniform with a = √5, as
// nn.Linear and kohya initialise it), up and bias zero, so training starts exactly at the base.

import type { Rng } from '../../engine/rng.ts';
import type { ParamStore } from '../flux/params.ts';
import type { Tensors } from '../tensors.ts';

export function initLoraTensors(store: ParamStore, rng: Rng): Tensors {
  const out: Tensors = new Map();
  for (const [key, v] of store.loraParams) {
    const data = new Float32Array(v.size);
    if (key.endsWith('.lora_A.weight')) {
      const bound = 1 / Math.sqrt(v.shape[1]!);
      rng.fillUniform(data, -bound, bound);
    }
    out.set(key, { shape: [...v.shape], data });
  }
  return out;
}
