// ComfyUI's LoRA loading for a FLUX model, re-implemented rule by rule from its source
// (Comfy-Org/ComfyUI, read at commit 17358c8 of comfy/lora.py). The entry point is comfy/sd.py
// load_lora_for_models: key_map = model_lora_keys_unet(model) (+ CLIP's), lora =
// lora_convert.convert_lora(lora), patches = lora.load_lora(lora, key_map), then
// ModelPatcher.add_patches(patches); the weights change when comfy/lora.py calculate_weight runs.

import type { Checkpoint, FileTensor, LoraFile } from './checkpoint.ts';
import type { Landed, LoadResult } from './landed.ts';

/** A key_map value: a state-dict key, or (key, (dim, start, length)) — a slice — or (key, None, function). */
type Target = string | { key: string; offset?: [number, number, number]; swapScaleShift?: boolean };

const MODEL = 'diffusion_model.';

/**
 * comfy/utils.py flux_to_diffusers(mmdit_config, output_prefix): diffusers name → BFL key. The
 * fused qkv / linear1 weights are addressed by row slices (dim 0, start, length), norm_out through
 * swap_scale_shift. Only the `.weight` entries matter to LoRA keys (model_lora_keys_unet keeps those).
 */
export function fluxToDiffusers(cfg: Checkpoint['params'], prefix: string): Map<string, Target> {
  const H = cfg.hidden_size;
  const map = new Map<string, Target>();
  for (let i = 0; i < cfg.depth; i++) {
    const from = `transformer_blocks.${i}`;
    const to = `${prefix}double_blocks.${i}`;
    for (const end of ['weight', 'bias']) {
      const img = `${to}.img_attn.qkv.${end}`;
      map.set(`${from}.attn.to_q.${end}`, { key: img, offset: [0, 0, H] });
      map.set(`${from}.attn.to_k.${end}`, { key: img, offset: [0, H, H] });
      map.set(`${from}.attn.to_v.${end}`, { key: img, offset: [0, 2 * H, H] });
      const txt = `${to}.txt_attn.qkv.${end}`;
      map.set(`${from}.attn.add_q_proj.${end}`, { key: txt, offset: [0, 0, H] });
      map.set(`${from}.attn.add_k_proj.${end}`, { key: txt, offset: [0, H, H] });
      map.set(`${from}.attn.add_v_proj.${end}`, { key: txt, offset: [0, 2 * H, H] });
    }
    const block: Record<string, string> = {
      'attn.to_out.0': 'img_attn.proj',
      'norm1.linear': 'img_mod.lin',
      'norm1_context.linear': 'txt_mod.lin',
      'attn.to_add_out': 'txt_attn.proj',
      'ff.net.0.proj': 'img_mlp.0',
      'ff.net.2': 'img_mlp.2',
      'ff_context.net.0.proj': 'txt_mlp.0',
      'ff_context.net.2': 'txt_mlp.2',
      // LyCORIS LoKr names of the same Linears
      'ff.linear_in': 'img_mlp.0',
      'ff.linear_out': 'img_mlp.2',
      'ff_context.linear_in': 'txt_mlp.0',
      'ff_context.linear_out': 'txt_mlp.2',
    };
    for (const [d, b] of Object.entries(block)) for (const end of ['weight', 'bias']) map.set(`${from}.${d}.${end}`, `${to}.${b}.${end}`);
  }
  for (let i = 0; i < cfg.depth_single_blocks; i++) {
    const from = `single_transformer_blocks.${i}`;
    const to = `${prefix}single_blocks.${i}`;
    for (const end of ['weight', 'bias']) {
      const qkv = `${to}.linear1.${end}`;
      map.set(`${from}.attn.to_q.${end}`, { key: qkv, offset: [0, 0, H] });
      map.set(`${from}.attn.to_k.${end}`, { key: qkv, offset: [0, H, H] });
      map.set(`${from}.attn.to_v.${end}`, { key: qkv, offset: [0, 2 * H, H] });
      // (qkv, (0, hidden_size * 3, hidden_size * 4)): ComfyUI assumes mlp_ratio 4.
      map.set(`${from}.proj_mlp.${end}`, { key: qkv, offset: [0, 3 * H, 4 * H] });
    }
    const block: Record<string, string> = { 'norm.linear': 'modulation.lin', proj_out: 'linear2', 'attn.to_out': 'linear2' };
    for (const [d, b] of Object.entries(block)) for (const end of ['weight', 'bias']) map.set(`${from}.${d}.${end}`, `${to}.${b}.${end}`);
  }
  const basic: [string, string, boolean?][] = [
    ['final_layer.linear', 'proj_out'],
    ['img_in', 'x_embedder'],
    ['time_in.in_layer', 'time_text_embed.timestep_embedder.linear_1'],
    ['time_in.out_layer', 'time_text_embed.timestep_embedder.linear_2'],
    ['txt_in', 'context_embedder'],
    ['vector_in.in_layer', 'time_text_embed.text_embedder.linear_1'],
    ['vector_in.out_layer', 'time_text_embed.text_embedder.linear_2'],
    ['guidance_in.in_layer', 'time_text_embed.guidance_embedder.linear_1'],
    ['guidance_in.out_layer', 'time_text_embed.guidance_embedder.linear_2'],
    ['final_layer.adaLN_modulation.1', 'norm_out.linear', true],
  ];
  for (const [b, d, swap] of basic) {
    for (const end of ['weight', 'bias']) map.set(`${d}.${end}`, swap ? { key: `${prefix}${b}.${end}`, swapScaleShift: true } : `${prefix}${b}.${end}`);
  }
  return map;
}

/** comfy/lora.py model_lora_keys_unet for a comfy.model_base.Flux model whose state dict is `sd` (keys with "diffusion_model."). */
export function modelLoraKeysUnet(sd: ReadonlyMap<string, number[]>, cfg: Checkpoint['params']): Map<string, Target> {
  const keyMap = new Map<string, Target>();
  for (const k of sd.keys()) {
    if (!k.startsWith(MODEL)) continue;
    if (k.endsWith('.weight')) {
      const bare = k.slice(MODEL.length, -'.weight'.length);
      keyMap.set(`lora_unet_${bare.replace(/\./g, '_')}`, k);
      keyMap.set(k.slice(0, -'.weight'.length), k); // "generic lora format without any weird key names"
    } else {
      keyMap.set(k, k);
    }
  }
  // comfy.utils.unet_to_diffusers(unet_config) returns {} for a config without num_res_blocks (every DiT, FLUX included).
  for (const [k, to] of fluxToDiffusers(cfg, MODEL)) {
    if (!k.endsWith('.weight')) continue;
    const name = k.slice(0, -'.weight'.length);
    keyMap.set(`transformer.${name}`, to); // simpletrainer / diffusers
    keyMap.set(`lycoris_${name.replace(/\./g, '_')}`, to);
    keyMap.set(`lora_transformer_${name.replace(/\./g, '_')}`, to); // OneTrainer
    keyMap.set(name, to); // DiffSynth
  }
  for (const k of sd.keys()) {
    if (k.endsWith('.weight') && k.includes('.linear1.'))
      keyMap.set(k.replace('.linear1.weight', '.linear1_qkv'), { key: k, offset: [0, 0, cfg.hidden_size * 3] });
  }
  return keyMap;
}

/** comfy/lora_convert.py convert_lora: the conversions a FLUX LoRA can meet; anything else passes unchanged. */
export function convertLora(lora: LoraFile): LoraFile {
  const t = lora.tensors;
  if (t.has('img_in.lora_A.weight') && t.has('single_blocks.0.norm.key_norm.scale')) {
    // convert_lora_bfl_control: BFL's control LoRAs (and only they) get their bare keys mapped.
    const out = new Map<string, FileTensor>();
    for (const [k, v] of t) out.set(`${MODEL}${k.replace('.lora_B.bias', '.diff_b').replace('_norm.scale', '_norm.set_weight')}`, v);
    return { tensors: out, metadata: lora.metadata };
  }
  if ([...t.keys()].some((k) => /(.*attn[._]to_)qkv(?=\.|$)/.test(k) && (k.includes('text_fusion') || k.includes('transformer_blocks')))) {
    throw new Error('krea2 fused-qkv conversion: not a FLUX LoRA');
  }
  return lora;
}

interface Adapter {
  up: FileTensor;
  down: FileTensor;
  alpha: number | null;
}

/** A patch, and the file keys it was made of. */
type Patch = ({ type: 'lora'; adapter: Adapter } | { type: 'diff'; diff: FileTensor }) & { keys: string[] };

/**
 * comfy/lora.py load_lora with comfy/weight_adapter/lora.py LoRAAdapter.load: for every key_map
 * name x, `x.alpha`, then the first up/down naming found (`.lora_up/.lora_down.weight`,
 * `_lora.up/.down.weight`, `.lora_B/.lora_A.weight`, `.lora.up/.down.weight`, `.lora_B/.lora_A`,
 * `.lora_linear_layer.up/.down.weight`, `.lora_B.default/.lora_A.default.weight`), then `x.diff`
 * and `x.diff_b` (a patch of "<target minus .weight>.bias"). Keys left over are "lora key not loaded".
 */
export function loadLora(lora: LoraFile, keyMap: ReadonlyMap<string, Target>): { patches: Map<Target, Patch>; notLoaded: string[] } {
  const t = lora.tensors;
  const loaded = new Set<string>();
  const patches = new Map<Target, Patch>();
  const namings: [string, string][] = [
    ['.lora_up.weight', '.lora_down.weight'],
    ['_lora.up.weight', '_lora.down.weight'],
    ['.lora_B.weight', '.lora_A.weight'],
    ['.lora.up.weight', '.lora.down.weight'],
    ['.lora_B', '.lora_A'],
    ['.lora_linear_layer.up.weight', '.lora_linear_layer.down.weight'],
    ['.lora_B.default.weight', '.lora_A.default.weight'],
  ];
  for (const [x, to] of keyMap) {
    let alpha: number | null = null;
    if (t.has(`${x}.alpha`)) {
      alpha = t.get(`${x}.alpha`)!.data[0]!;
      loaded.add(`${x}.alpha`);
    }
    for (const [upName, downName] of namings) {
      const up = t.get(x + upName);
      if (!up) continue;
      const down = t.get(x + downName);
      if (!down) throw new Error(`KeyError: '${x}${downName}'`);
      patches.set(to, { type: 'lora', adapter: { up, down, alpha }, keys: [x + upName, x + downName, ...(alpha === null ? [] : [`${x}.alpha`])] });
      loaded.add(x + upName).add(x + downName);
      break;
    }
    const diff = t.get(`${x}.diff`);
    if (diff) {
      patches.set(to, { type: 'diff', diff, keys: [`${x}.diff`] });
      loaded.add(`${x}.diff`);
    }
    const diffB = t.get(`${x}.diff_b`);
    if (diffB) {
      // "{}.bias".format(to_load[x][:-len(".weight")]): on a tuple target the slice is of the tuple,
      // which names no weight — Python's repr of it is what the key becomes.
      const biasKey = typeof to === 'string' ? `${to.slice(0, -'.weight'.length)}.bias` : `${to.offset || to.swapScaleShift ? '()' : ''}.bias`;
      patches.set(biasKey, { type: 'diff', diff: diffB, keys: [`${x}.diff_b`] });
      loaded.add(`${x}.diff_b`);
    }
  }
  return { patches, notLoaded: [...t.keys()].filter((k) => !loaded.has(k)) };
}

/**
 * comfy/model_patcher.py ModelPatcher.add_patches (a patch whose key is not in the model's state
 * dict is "NOT LOADED") and comfy/lora.py calculate_weight: the weight is narrowed to the offset,
 * ΔW = mm(up, down).reshape(weight.shape) times strength · alpha / rank (alpha None: 1), through
 * the target's function; a diff of another shape is "SHAPE MISMATCH … NOT MERGED".
 */
export function applyPatches(patches: ReadonlyMap<Target, Patch>, sd: ReadonlyMap<string, number[]>): LoadResult {
  const landed: Landed[] = [];
  const dropped: string[] = [];
  for (const [target, patch] of patches) {
    const key = typeof target === 'string' ? target : target.key;
    const shape = sd.get(key);
    if (!shape) {
      dropped.push(...patch.keys);
      continue;
    }
    const offset = typeof target === 'string' ? undefined : target.offset;
    const rows: [number, number] = offset ? [offset[1], offset[1] + offset[2]] : [0, shape[0]!];
    const narrowed = [rows[1] - rows[0], ...shape.slice(1)];
    const swapHalves = typeof target !== 'string' && !!target.swapScaleShift;
    const bare = key.slice(MODEL.length);
    if (patch.type === 'lora') {
      const { up, down, alpha } = patch.adapter;
      const numel = narrowed.reduce((a, b) => a * b, 1);
      if (up.shape[0]! * down.shape[1]! !== numel || up.shape[1] !== down.shape[0])
        throw new Error(`ERROR lora ${key}: [${up.shape}]·[${down.shape}] onto [${narrowed}]`);
      if (up.shape[0] !== narrowed[0] || down.shape[1] !== narrowed[1])
        throw new Error(`${key}: reshaped onto [${narrowed}] from [${up.shape[0]}, ${down.shape[1]}]: rows and columns mixed`);
      landed.push({ kind: 'lora', target: bare, rows, swapHalves, up, down, scale: alpha === null ? 1 : alpha / down.shape[0]! });
    } else {
      if (patch.diff.shape.join() !== narrowed.join()) throw new Error(`WARNING SHAPE MISMATCH ${key} WEIGHT NOT MERGED ${patch.diff.shape} != ${narrowed}`);
      landed.push({ kind: 'bias', target: bare, rows, swapHalves, data: patch.diff.data });
    }
  }
  return { landed, dropped };
}

/** load_lora_for_models (comfy/sd.py) for the model part, on a FLUX checkpoint's keys. */
export function comfyLoad(file: LoraFile, checkpoint: Checkpoint): LoadResult {
  const sd = new Map([...checkpoint.tensors].map(([k, v]) => [MODEL + k, v]));
  const keyMap = modelLoraKeysUnet(sd, checkpoint.params);
  const lora = convertLora(file);
  const { patches, notLoaded } = loadLora(lora, keyMap);
  const result = applyPatches(patches, sd);
  return { landed: result.landed, dropped: [...notLoaded, ...result.dropped] };
}
