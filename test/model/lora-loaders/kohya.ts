// kohya-ss/sd-scripts loading a FLUX LoRA for inference or merging, re-implemented from its source
// (read at commit 48d368f): networks/lora_flux.py create_network_from_weights, LoRANetwork and
// LoRAModule, and load_weights.

import type { Checkpoint, LoraFile } from './checkpoint.ts';
import type { Landed, LoadResult } from './landed.ts';

/**
 * LoRANetwork's modules for a FLUX model: every Linear inside a DoubleStreamBlock or a
 * SingleStreamBlock (FLUX_TARGET_REPLACE_MODULE_DOUBLE/_SINGLE; library/flux_models.py names them
 * as BFL does), named `lora_unet` + "." + module path, dots → "_" (create_modules). The embedders
 * and final layer get modules only from `in_dims`, a training argument a weights file cannot set.
 * Here the checkpoint's 2-D block weights stand for those Linears.
 */
export function kohyaModules(ckpt: Checkpoint): Map<string, { path: string; inFeatures: number; outFeatures: number }> {
  const out = new Map<string, { path: string; inFeatures: number; outFeatures: number }>();
  for (const [key, shape] of ckpt.tensors) {
    if (!/^(double|single)_blocks\.\d+\./.test(key) || !key.endsWith('.weight') || shape.length !== 2) continue;
    const path = key.slice(0, -'.weight'.length);
    out.set(`lora_unet_${path.replace(/\./g, '_')}`, { path, inFeatures: shape[1]!, outFeatures: shape[0]! });
  }
  return out;
}

/**
 * create_network_from_weights: a module's dim is its `lora_down` rows, its alpha the `alpha` value
 * (a name = the key up to its first "."); only modules named in the file are created, each with
 * LoRAModule's lora_down Linear(in, dim) and lora_up Linear(dim, out), scale alpha / dim. Then
 * load_weights: load_state_dict(weights_sd, strict=False), so a key of no module is ignored and a
 * wrong shape raises.
 */
export function kohyaLoad(file: LoraFile, ckpt: Checkpoint): LoadResult {
  const dims = new Map<string, number>();
  const alphas = new Map<string, number>();
  for (const [key, t] of file.tensors) {
    if (!key.includes('.')) continue;
    const name = key.split('.')[0]!;
    if (key.includes('alpha')) alphas.set(name, t.data[0]!);
    else if (key.includes('lora_down')) dims.set(name, t.shape[0]!);
  }
  const landed: Landed[] = [];
  const consumed = new Set<string>();
  for (const [name, m] of kohyaModules(ckpt)) {
    const dim = dims.get(name);
    if (dim === undefined) continue;
    if (!alphas.has(name)) throw new Error(`KeyError: '${name}' (modules_alpha)`);
    const alpha = alphas.get(name) || dim; // "if alpha == 0 or None, alpha is rank"
    const down = file.tensors.get(`${name}.lora_down.weight`)!;
    const up = file.tensors.get(`${name}.lora_up.weight`);
    if (!up) throw new Error(`Missing key(s) in state_dict: "${name}.lora_up.weight"`);
    if (down.shape.join() !== [dim, m.inFeatures].join())
      throw new Error(`size mismatch for ${name}.lora_down.weight: [${down.shape}] vs [${dim}, ${m.inFeatures}]`);
    if (up.shape.join() !== [m.outFeatures, dim].join())
      throw new Error(`size mismatch for ${name}.lora_up.weight: [${up.shape}] vs [${m.outFeatures}, ${dim}]`);
    for (const suffix of ['.lora_down.weight', '.lora_up.weight', '.alpha']) consumed.add(name + suffix);
    landed.push({ kind: 'lora', target: `${m.path}.weight`, rows: [0, m.outFeatures], swapHalves: false, up, down, scale: alpha / dim });
  }
  return { landed, dropped: [...file.tensors.keys()].filter((k) => !consumed.has(k)) };
}
