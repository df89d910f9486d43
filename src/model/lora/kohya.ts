// kohya sd-scripts / ComfyUI "lora_unet" layout: `lora_unet_<path with _>.lora_down.weight`
// [r, in], `.lora_up.weight` [out, r], `.alpha` (scale α/r). BFL's lora_B bias has no kohya
// key; it goes to `.diff_b`, ComfyUI's key for a bias difference (kohya's own loader ignores it).

import type { Tensors } from '../tensors.ts';
import { checkModule, type LinearShape, type Lora } from './lora.ts';

const PREFIX = 'lora_unet_';

export const kohyaName = (path: string) => PREFIX + path.replace(/\./g, '_');

/** Exports with α = r, i.e. scale 1, so kohya-style loaders apply exactly ΔW = up·down. */
export function loraToKohya(lora: Lora): Tensors {
  const out: Tensors = new Map();
  for (const [path, m] of lora) {
    const name = kohyaName(path);
    out.set(`${name}.lora_down.weight`, { shape: [m.rank, m.inFeatures], data: m.down });
    out.set(`${name}.lora_up.weight`, { shape: [m.outFeatures, m.rank], data: m.up });
    out.set(`${name}.alpha`, { shape: [], data: Float32Array.of(m.rank) });
    if (m.bias) out.set(`${name}.diff_b`, { shape: [m.outFeatures], data: m.bias });
  }
  return out;
}

/**
 * Imports onto the given Linears. Module names contain underscores (img_attn, in_layer), so
 * the path is found by lookup from every known Linear, never by turning `_` back into `.`.
 * α/r is baked into `up`; a missing (or zero) α means α = r, as kohya and ComfyUI read it.
 */
export function loraFromKohya(tensors: Tensors, linears: ReadonlyMap<string, LinearShape>): Lora {
  const byName = new Map([...linears.keys()].map((p) => [kohyaName(p), p]));
  const lora: Lora = new Map();
  const used = new Set<string>();
  for (const [key, t] of tensors) {
    if (!key.endsWith('.lora_down.weight')) continue;
    const name = key.slice(0, -'.lora_down.weight'.length);
    const path = byName.get(name);
    if (!path) throw new Error(`kohya LoRA: '${key}' is not on a Linear of this model`);
    const up = tensors.get(`${name}.lora_up.weight`);
    if (!up) throw new Error(`kohya LoRA: '${key}' has no matching '${name}.lora_up.weight'`);
    for (const suffix of ['.lora_down.weight', '.lora_up.weight', '.alpha', '.diff_b']) used.add(name + suffix);
    const rank = t.shape[0]!;
    const alpha = tensors.get(`${name}.alpha`)?.data[0];
    const scale = alpha ? alpha / rank : 1;
    const diffB = tensors.get(`${name}.diff_b`);
    const m = {
      rank,
      inFeatures: t.shape[1]!,
      outFeatures: up.shape[0]!,
      down: Float32Array.from(t.data),
      up: Float32Array.from(up.data, (x) => x * scale),
      bias: diffB ? Float32Array.from(diffB.data) : undefined,
    };
    checkModule(path, m);
    const shape = linears.get(path)!;
    if (m.inFeatures !== shape.inFeatures || m.outFeatures !== shape.outFeatures) {
      throw new Error(`kohya LoRA: '${key}' is ${m.outFeatures}×${m.inFeatures}, the model's Linear ${shape.outFeatures}×${shape.inFeatures}`);
    }
    lora.set(path, m);
  }
  // Nothing may be left over: a stray key is a module this reader would silently drop.
  for (const key of tensors.keys()) if (!used.has(key)) throw new Error(`kohya LoRA: '${key}' belongs to no LoRA module of this model`);
  return lora;
}

export function isKohyaLayout(keys: Iterable<string>): boolean {
  for (const k of keys) if (k.startsWith(PREFIX) && k.endsWith('.lora_down.weight')) return true;
  return false;
}
