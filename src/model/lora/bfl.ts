// BFL's native LoRA layout (src/flux/modules/lora.py, the official control LoRAs):
// `<path>.lora_A.weight` [r, in], `<path>.lora_B.weight` [out, r], `<path>.lora_B.bias` [out].
// Other tensors in such files (BFL's control LoRAs carry full QK-norm scales) are kept aside
// as `extras` so a load/save cycle does not drop them.

import type { Tensors } from '../tensors.ts';
import { checkModule, type Lora, type LoraModule } from './lora.ts';

const SUFFIX = { down: '.lora_A.weight', up: '.lora_B.weight', bias: '.lora_B.bias' } as const;

const f32 = (d: Float32Array | Float64Array) => (d instanceof Float32Array ? d : Float32Array.from(d));

export function loraFromBfl(tensors: Tensors): { lora: Lora; extras: Tensors } {
  const lora: Lora = new Map();
  const extras: Tensors = new Map();
  for (const [key, t] of tensors) {
    if (!key.endsWith(SUFFIX.down)) {
      if (!key.endsWith(SUFFIX.up) && !key.endsWith(SUFFIX.bias)) extras.set(key, t);
      continue;
    }
    const path = key.slice(0, -SUFFIX.down.length);
    const up = tensors.get(path + SUFFIX.up);
    if (!up) throw new Error(`BFL LoRA: '${key}' has no matching '${path}${SUFFIX.up}'`);
    const bias = tensors.get(path + SUFFIX.bias);
    const m: LoraModule = {
      rank: t.shape[0]!,
      inFeatures: t.shape[1]!,
      outFeatures: up.shape[0]!,
      down: f32(t.data),
      up: f32(up.data),
      bias: bias ? f32(bias.data) : undefined,
    };
    checkModule(path, m);
    lora.set(path, m);
  }
  for (const key of tensors.keys()) {
    if (key.endsWith(SUFFIX.up) && !lora.has(key.slice(0, -SUFFIX.up.length))) {
      throw new Error(`BFL LoRA: '${key}' has no matching lora_A`);
    }
  }
  return { lora, extras };
}

export function loraToBfl(lora: Lora, extras?: Tensors): Tensors {
  const out: Tensors = new Map(extras);
  for (const [path, m] of lora) {
    out.set(path + SUFFIX.down, { shape: [m.rank, m.inFeatures], data: m.down });
    out.set(path + SUFFIX.up, { shape: [m.outFeatures, m.rank], data: m.up });
    if (m.bias) out.set(path + SUFFIX.bias, { shape: [m.outFeatures], data: m.bias });
  }
  return out;
}

/** True when the keys look like BFL's layout (lora_A/lora_B on bare BFL module paths). */
export function isBflLayout(keys: Iterable<string>): boolean {
  for (const k of keys) if (k.endsWith(SUFFIX.down) && !k.startsWith('transformer.') && !k.startsWith('lora_')) return true;
  return false;
}
