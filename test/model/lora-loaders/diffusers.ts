// diffusers' LoRA loading for FluxPipeline, re-implemented rule by rule from its source
// (huggingface/diffusers, read at commit 58eb52c): FluxLoraLoaderMixin.lora_state_dict and
// load_lora_weights (src/diffusers/loaders/lora_pipeline.py), the kohya conversion
// (src/diffusers/loaders/lora_conversion_utils.py _convert_kohya_flux_lora_to_diffusers),
// PeftAdapterMixin.load_lora_adapter (src/diffusers/loaders/peft.py) with the LoraConfig it
// builds (src/diffusers/utils/peft_utils.py), and PEFT's module matching as diffusers calls it.

import type { Checkpoint, FileTensor, LoraFile } from './checkpoint.ts';
import type { Landed, LoadResult } from './landed.ts';

/** A Linear of FluxTransformer2DModel and the rows of the BFL weight it is made of. */
export interface DiffusersLinear {
  inFeatures: number;
  outFeatures: number;
  /** BFL key of the weight, without `.weight`. */
  source: string;
  rows: [number, number];
  swapHalves: boolean;
}

/**
 * scripts/convert_flux_to_diffusers.py convert_flux_transformer_checkpoint_to_diffusers applied to a
 * checkpoint's shapes: every Linear of FluxTransformer2DModel (the script loads its result with
 * strict=True, so these are exactly the model's) and where in the BFL checkpoint it comes from.
 * qkv is torch.chunk'ed in 3; linear1 is split (inner_dim ×3, int(inner_dim · mlp_ratio));
 * norm_out is final_layer.adaLN_modulation.1 through swap_scale_shift.
 */
export function diffusersLinears(ckpt: Checkpoint): Map<string, DiffusersLinear> {
  const out = new Map<string, DiffusersLinear>();
  const t = ckpt.tensors;
  const add = (name: string, source: string, part?: { rows: [number, number] }, swapHalves = false) => {
    const shape = t.get(`${source}.weight`);
    if (!shape) throw new Error(`KeyError: '${source}.weight'`);
    const rows = part?.rows ?? [0, shape[0]!];
    out.set(name, { inFeatures: shape[1]!, outFeatures: rows[1] - rows[0], source, rows, swapHalves });
  };
  const chunks = (sizes: number[]) => {
    let at = 0;
    return sizes.map((n) => {
      const rows: [number, number] = [at, at + n];
      at += n;
      return { rows };
    });
  };
  add('time_text_embed.timestep_embedder.linear_1', 'time_in.in_layer');
  add('time_text_embed.timestep_embedder.linear_2', 'time_in.out_layer');
  add('time_text_embed.text_embedder.linear_1', 'vector_in.in_layer');
  add('time_text_embed.text_embedder.linear_2', 'vector_in.out_layer');
  if ([...t.keys()].some((k) => k.includes('guidance'))) {
    add('time_text_embed.guidance_embedder.linear_1', 'guidance_in.in_layer');
    add('time_text_embed.guidance_embedder.linear_2', 'guidance_in.out_layer');
  }
  add('context_embedder', 'txt_in');
  add('x_embedder', 'img_in');
  const inner = ckpt.params.hidden_size;
  for (let i = 0; i < ckpt.params.depth; i++) {
    const b = `transformer_blocks.${i}.`;
    const d = `double_blocks.${i}.`;
    add(`${b}norm1.linear`, `${d}img_mod.lin`);
    add(`${b}norm1_context.linear`, `${d}txt_mod.lin`);
    const third = t.get(`${d}img_attn.qkv.weight`)![0]! / 3;
    const [q, k, v] = chunks([third, third, third]);
    add(`${b}attn.to_q`, `${d}img_attn.qkv`, q);
    add(`${b}attn.to_k`, `${d}img_attn.qkv`, k);
    add(`${b}attn.to_v`, `${d}img_attn.qkv`, v);
    const [cq, ck, cv] = chunks([third, third, third]);
    add(`${b}attn.add_q_proj`, `${d}txt_attn.qkv`, cq);
    add(`${b}attn.add_k_proj`, `${d}txt_attn.qkv`, ck);
    add(`${b}attn.add_v_proj`, `${d}txt_attn.qkv`, cv);
    add(`${b}ff.net.0.proj`, `${d}img_mlp.0`);
    add(`${b}ff.net.2`, `${d}img_mlp.2`);
    add(`${b}ff_context.net.0.proj`, `${d}txt_mlp.0`);
    add(`${b}ff_context.net.2`, `${d}txt_mlp.2`);
    add(`${b}attn.to_out.0`, `${d}img_attn.proj`);
    add(`${b}attn.to_add_out`, `${d}txt_attn.proj`);
  }
  for (let i = 0; i < ckpt.params.depth_single_blocks; i++) {
    const b = `single_transformer_blocks.${i}.`;
    const s = `single_blocks.${i}.`;
    add(`${b}norm.linear`, `${s}modulation.lin`);
    const mlp = Math.trunc(inner * ckpt.params.mlp_ratio);
    const [q, k, v, m] = chunks([inner, inner, inner, mlp]);
    add(`${b}attn.to_q`, `${s}linear1`, q);
    add(`${b}attn.to_k`, `${s}linear1`, k);
    add(`${b}attn.to_v`, `${s}linear1`, v);
    add(`${b}proj_mlp`, `${s}linear1`, m);
    add(`${b}proj_out`, `${s}linear2`);
  }
  add('proj_out', 'final_layer.linear');
  add('norm_out.linear', 'final_layer.adaLN_modulation.1', undefined, true);
  return out;
}

type Sd = Map<string, FileTensor>;

const scaled = (t: FileTensor, s: number): FileTensor => (s === 1 ? t : { ...t, data: t.data.map((x) => x * s) });
const rowsOf = (t: FileTensor, start: number, end: number): FileTensor => {
  const cols = t.shape[1]!;
  return { ...t, shape: [end - start, cols], data: t.data.slice(start * cols, end * cols) };
};
const block = (t: FileTensor, r0: number, r1: number, c0: number, c1: number): FileTensor => {
  const cols = t.shape[1]!;
  const data = new Float32Array((r1 - r0) * (c1 - c0));
  for (let r = r0; r < r1; r++) data.set(t.data.subarray(r * cols + c0, r * cols + c1), (r - r0) * (c1 - c0));
  return { ...t, shape: [r1 - r0, c1 - c0], data };
};
/** scale split into scale_down · scale_up (both 1 at α = r) the way the converter does. */
function scaleParts(scale: number): [number, number] {
  let down = scale;
  let up = 1;
  while (down * 2 < up) {
    down *= 2;
    up /= 2;
  }
  return [down, up];
}

/**
 * lora_conversion_utils.py _convert_kohya_flux_lora_to_diffusers, the sd-scripts branch
 * (_convert_sd_scripts_to_ai_toolkit) for a file with neither `transformer.` keys nor
 * `lora_transformer_` ("mixture") keys: `.diff_b` keys are filtered out ("currently unsupported"),
 * keys outside lora_unet_/lora_te_/lora_te1_ are dropped, blocks are looked up for range(19) and
 * range(38) with linear1 split as [3072, 3072, 3072, 12288] (FLUX.1's geometry, hard-coded), and
 * whatever is left raises "Incompatible keys detected". Returns the converted dict and what it filtered out.
 */
export function convertKohyaFluxLora(input: Sd): { sd: Sd; filtered: string[] } {
  let sds: Sd = new Map(input);
  const filtered: string[] = [];
  if ([...sds.keys()].some((k) => k.startsWith('transformer.'))) throw new Error('not modelled: the mixed peft/kohya branch');
  if ([...sds.keys()].some((k) => k.startsWith('lora_transformer_') && /lora_down|lora_up|alpha/.test(k)))
    throw new Error('not modelled: the "mixture" branch');
  // "ComFyUI" renames, then the filters.
  sds = new Map([...sds].map(([k, v]) => [k.replace('diffusion_model.', 'lora_unet_').replace('text_encoders.clip_l.transformer.', 'lora_te_'), v]));
  const normDiff = [...sds.keys()].some((k) => k.includes('.norm') && k.includes('.diff'));
  for (const k of [...sds.keys()]) {
    const drop =
      k.includes('position_embedding') ||
      k.startsWith('text_encoders.t5xxl.transformer.') ||
      k.includes('.diff_b') ||
      (normDiff && (k.includes('.norm') || k.includes('.diff'))) ||
      !(k.startsWith('lora_unet_') || k.startsWith('lora_te_') || k.startsWith('lora_te1_'));
    if (drop) {
      filtered.push(k);
      sds.delete(k);
    }
  }
  // _custom_replace(k, ["lora_down", "lora_up", ("alpha")]): dots before the first of those become "_".
  const subs = ['lora_down', 'lora_up', ...([...sds.keys()].some((k) => k.includes('alpha')) ? ['alpha'] : [])];
  sds = new Map(
    [...sds].map(([k, v]) => {
      const m = new RegExp(`(${subs.join('|')})`).exec(k);
      if (!m) return [k.replace(/\./g, '_'), v];
      const boundary = m.index > 0 && k[m.index - 1] === '.' ? m.index - 1 : m.index;
      return [k.slice(0, boundary).replace(/\./g, '_') + k.slice(boundary), v];
    }),
  );

  const ait: Sd = new Map();
  const pop = (k: string) => {
    const v = sds.get(k);
    sds.delete(k);
    return v;
  };
  const convert = (sdsKey: string, aitKey: string) => {
    if (!sds.has(`${sdsKey}.lora_down.weight`)) return;
    const down = pop(`${sdsKey}.lora_down.weight`)!;
    const rank = down.shape[0]!;
    const alpha = pop(`${sdsKey}.alpha`)?.data[0] ?? rank;
    const [sDown, sUp] = scaleParts(alpha / rank);
    const up = pop(`${sdsKey}.lora_up.weight`);
    if (!up) throw new Error(`KeyError: '${sdsKey}.lora_up.weight'`);
    ait.set(`${aitKey}.lora_A.weight`, scaled(down, sDown));
    ait.set(`${aitKey}.lora_B.weight`, scaled(up, sUp));
  };
  const convertCat = (sdsKey: string, aitKeys: string[], dims?: number[]) => {
    if (!sds.has(`${sdsKey}.lora_down.weight`)) return;
    const down0 = pop(`${sdsKey}.lora_down.weight`)!;
    const up0 = pop(`${sdsKey}.lora_up.weight`)!;
    const rank = down0.shape[0]!;
    const alpha = pop(`${sdsKey}.alpha`)?.data[0] ?? rank;
    const [sDown, sUp] = scaleParts(alpha / rank);
    const down = scaled(down0, sDown);
    const up = scaled(up0, sUp);
    const n = aitKeys.length;
    const sizes = dims ?? Array<number>(n).fill(up.shape[0]! / n);
    if (sizes.reduce((a, b) => a + b, 0) !== up.shape[0])
      throw new Error(`AssertionError: sum(dims) == up_weight.shape[0] (${sdsKey}: ${sizes} vs ${up.shape[0]})`);
    let sparse = false;
    const aitRank = rank / n;
    if (rank % n === 0) {
      sparse = true;
      let i = 0;
      for (let j = 0; j < n; j++) {
        for (let k = 0; k < n; k++) if (j !== k) sparse &&= block(up, i, i + sizes[j]!, k * aitRank, (k + 1) * aitRank).data.every((x) => x === 0);
        i += sizes[j]!;
      }
    }
    let i = 0;
    for (const [j, key] of aitKeys.entries()) {
      if (sparse) {
        ait.set(`${key}.lora_A.weight`, rowsOf(down, j * aitRank, (j + 1) * aitRank));
        ait.set(`${key}.lora_B.weight`, block(up, i, i + sizes[j]!, j * aitRank, (j + 1) * aitRank));
      } else {
        ait.set(`${key}.lora_A.weight`, down);
        ait.set(`${key}.lora_B.weight`, rowsOf(up, i, i + sizes[j]!));
      }
      i += sizes[j]!;
    }
  };
  for (let i = 0; i < 19; i++) {
    const s = `lora_unet_double_blocks_${i}_`;
    const d = `transformer.transformer_blocks.${i}.`;
    convert(`${s}img_attn_proj`, `${d}attn.to_out.0`);
    convertCat(`${s}img_attn_qkv`, [`${d}attn.to_q`, `${d}attn.to_k`, `${d}attn.to_v`]);
    convert(`${s}img_mlp_0`, `${d}ff.net.0.proj`);
    convert(`${s}img_mlp_2`, `${d}ff.net.2`);
    convert(`${s}img_mod_lin`, `${d}norm1.linear`);
    convert(`${s}txt_attn_proj`, `${d}attn.to_add_out`);
    convertCat(`${s}txt_attn_qkv`, [`${d}attn.add_q_proj`, `${d}attn.add_k_proj`, `${d}attn.add_v_proj`]);
    convert(`${s}txt_mlp_0`, `${d}ff_context.net.0.proj`);
    convert(`${s}txt_mlp_2`, `${d}ff_context.net.2`);
    convert(`${s}txt_mod_lin`, `${d}norm1_context.linear`);
  }
  for (let i = 0; i < 38; i++) {
    const s = `lora_unet_single_blocks_${i}_`;
    const d = `transformer.single_transformer_blocks.${i}.`;
    convertCat(`${s}linear1`, [`${d}attn.to_q`, `${d}attn.to_k`, `${d}attn.to_v`, `${d}proj_mlp`], [3072, 3072, 3072, 12288]);
    convert(`${s}linear2`, `${d}proj_out`);
    convert(`${s}modulation_lin`, `${d}norm.linear`);
  }
  const has = (s: string) => [...sds.keys()].some((k) => k.includes(s));
  // Note the targets: no "transformer." prefix on these.
  if (has('guidance_in')) {
    convert('lora_unet_guidance_in_in_layer', 'time_text_embed.guidance_embedder.linear_1');
    convert('lora_unet_guidance_in_out_layer', 'time_text_embed.guidance_embedder.linear_2');
  }
  if (has('img_in')) convert('lora_unet_img_in', 'x_embedder');
  if (has('txt_in')) convert('lora_unet_txt_in', 'context_embedder');
  if (has('time_in')) {
    convert('lora_unet_time_in_in_layer', 'time_text_embed.timestep_embedder.linear_1');
    convert('lora_unet_time_in_out_layer', 'time_text_embed.timestep_embedder.linear_2');
  }
  if (has('vector_in')) {
    convert('lora_unet_vector_in_in_layer', 'time_text_embed.text_embedder.linear_1');
    convert('lora_unet_vector_in_out_layer', 'time_text_embed.text_embedder.linear_2');
  }
  if (has('final_layer')) {
    // assign_remaining_weights: no alpha scaling; swap_scale_shift on norm_out's lora_B.
    for (const [target, source, swap] of [
      ['norm_out.linear', 'lora_unet_final_layer_adaLN_modulation_1', true],
      ['proj_out', 'lora_unet_final_layer_linear', false],
    ] as const) {
      for (const [lk, ok] of [
        ['lora_A', 'lora_down'],
        ['lora_B', 'lora_up'],
      ] as const) {
        const v = pop(`${source}.${ok}.weight`);
        if (!v) continue;
        ait.set(`${target}.${lk}.weight`, swap && lk === 'lora_B' ? swapScaleShift(v) : v);
      }
    }
    for (const k of [...sds.keys()]) if (k.includes('final_layer') && k.endsWith('.alpha')) sds.delete(k);
  }
  const remaining = [...sds.keys()];
  if (remaining.length && !remaining.every((k) => k.startsWith('lora_te'))) throw new Error(`ValueError: Incompatible keys detected: ${remaining.join(', ')}`);
  return { sd: ait, filtered };
}

/** swap_scale_shift: (shift, scale) → (scale, shift) along dim 0. */
function swapScaleShift(t: FileTensor): FileTensor {
  const half = t.shape[0]! / 2;
  return { ...t, data: Float32Array.from([...rowsOf(t, half, 2 * half).data, ...rowsOf(t, 0, half).data]) };
}

interface LoraConfig {
  r: number;
  lora_alpha: number;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  target_modules: string[] | string | null;
  lora_bias: boolean;
}

/** peft_utils.py get_peft_kwargs, for a checkpoint without alphas (what the kohya conversion leaves). */
function peftKwargs(rankDict: Map<string, number>, sd: Sd): LoraConfig {
  const ranks = [...rankDict.values()];
  let r = ranks[0]!;
  let rankPattern: Record<string, number> = {};
  let alphaPattern: Record<string, number> = {};
  let alpha = r;
  if (new Set(ranks).size > 1) {
    const counts = new Map<number, number>();
    for (const x of ranks) counts.set(x, (counts.get(x) ?? 0) + 1);
    r = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    rankPattern = Object.fromEntries([...rankDict].filter(([, v]) => v !== r).map(([k, v]) => [k.split('.lora_B.')[0]!, v]));
    alpha = r;
    alphaPattern = { ...rankPattern };
  }
  return {
    r,
    lora_alpha: alpha,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    target_modules: [...new Set([...sd.keys()].map((k) => k.split('.lora')[0]!))],
    lora_bias: [...sd.keys()].some((k) => k.includes('lora_B') && k.endsWith('.bias')),
  };
}

/** LoraConfig(**metadata): the fields diffusers hands over; PEFT's defaults for the rest. */
function loraConfigFrom(meta: Record<string, unknown>): LoraConfig {
  return {
    r: (meta.r as number) ?? 8,
    lora_alpha: (meta.lora_alpha as number) ?? 8,
    rank_pattern: (meta.rank_pattern as Record<string, number>) ?? {},
    alpha_pattern: (meta.alpha_pattern as Record<string, number>) ?? {},
    target_modules: (meta.target_modules as string[] | string | undefined) ?? null,
    lora_bias: (meta.lora_bias as boolean) ?? false,
  };
}

/** PEFT check_target_module_exists: a regex string must fullmatch; a list matches a name or a ".name" suffix. */
function isTarget(config: LoraConfig, name: string): boolean {
  const t = config.target_modules;
  if (t === null) throw new Error('ValueError: Please specify `target_modules` in `peft_config`');
  if (typeof t === 'string') return new RegExp(`^(?:${t})$`).test(name);
  return t.includes(name) || t.some((x) => name.endsWith(`.${x}`));
}

/** PEFT get_pattern_key: a "^…" pattern matches from the start, any other as a "(.*\.)?…$" suffix; else the default. */
function fromPattern(pattern: Record<string, number>, name: string, fallback: number): number {
  for (const [k, v] of Object.entries(pattern)) {
    const re = k.startsWith('^') ? new RegExp(`${k}$`) : new RegExp(`(.*\\.)?${k}$`);
    if (re.test(name)) return v;
  }
  return fallback;
}

/**
 * FluxPipeline.load_lora_weights(file) on a FLUX checkpoint of `ckpt`'s shapes: lora_state_dict
 * (kohya keys converted; "alpha" keys become network alphas), the `transformer.` filter
 * (load_lora_adapter, prefix="transformer"; the metadata is filtered the same way), LoraConfig from
 * the metadata when the file has one, else from the state dict; then PEFT makes lora_A [r, in] and
 * lora_B [out, r] (+ bias with lora_bias) on every targeted Linear and loads the state dict into
 * them — a shape mismatch raises, keys of untargeted or missing modules are unexpected (a warning).
 */
export function diffusersLoad(file: LoraFile, ckpt: Checkpoint): LoadResult {
  const linears = diffusersLinears(ckpt);
  let sd: Sd = new Map([...file.tensors].filter(([k]) => !k.includes('dora_scale')));
  const dropped: string[] = [];
  let metadata: Record<string, unknown> | null = file.metadata.lora_adapter_metadata ? JSON.parse(file.metadata.lora_adapter_metadata) : null;
  let alphas = new Map<string, number>();
  if ([...sd.keys()].some((k) => k.includes('.lora_down.weight'))) {
    const { sd: converted, filtered } = convertKohyaFluxLora(sd);
    sd = converted;
    dropped.push(...filtered);
  } else {
    if ([...sd.keys()].some((k) => k.includes('processor'))) throw new Error('not modelled: XLabs conversion');
    if ([...sd.keys()].some((k) => k.includes('query_norm.scale'))) throw new Error('not modelled: BFL control-LoRA conversion');
    if ([...sd.keys()].some((k) => k.includes('base_model'))) throw new Error('not modelled: fal Kontext conversion');
    for (const k of [...sd.keys()]) {
      if (k.includes('alpha')) {
        alphas.set(k, sd.get(k)!.data[0]!);
        sd.delete(k);
      }
    }
  }
  if (![...sd.keys()].some((k) => k.includes('lora'))) throw new Error('ValueError: Invalid LoRA checkpoint.');

  // load_lora_adapter(prefix="transformer")
  for (const k of [...sd.keys()]) {
    if (!k.startsWith('transformer.')) {
      dropped.push(k);
      sd.delete(k);
    }
  }
  sd = new Map([...sd].map(([k, v]) => [k.slice('transformer.'.length), v]));
  // `if len(state_dict) > 0:` — with nothing under the prefix, nothing is loaded, and nothing is said.
  if (!sd.size) return { landed: [], dropped };
  if (metadata)
    metadata = Object.fromEntries(
      Object.entries(metadata)
        .filter(([k]) => k.startsWith('transformer.'))
        .map(([k, v]) => [k.slice('transformer.'.length), v]),
    );
  alphas = new Map([...alphas].filter(([k]) => k.startsWith('transformer.')).map(([k, v]) => [k.slice('transformer.'.length), v]));
  if (alphas.size && metadata) throw new Error('ValueError: Both `network_alphas` and `metadata` cannot be specified.');
  const rankDict = new Map([...sd].filter(([k, v]) => k.includes('lora_B') && v.shape.length > 1).map(([k, v]) => [`^${k}`, v.shape[1]!]));
  if (alphas.size) throw new Error('not modelled: network alphas in a PEFT-named file');
  const config = metadata !== null ? loraConfigFrom(metadata) : peftKwargs(rankDict, sd);

  const landed: Landed[] = [];
  const consumed = new Set<string>();
  let targeted = 0;
  for (const [name, lin] of linears) {
    if (!isTarget(config, name)) continue;
    targeted++;
    const r = fromPattern(config.rank_pattern, name, config.r);
    const alpha = fromPattern(config.alpha_pattern, name, config.lora_alpha);
    const A = sd.get(`${name}.lora_A.weight`);
    const B = sd.get(`${name}.lora_B.weight`);
    const bias = sd.get(`${name}.lora_B.bias`);
    for (const [k, t, want] of [
      [`${name}.lora_A.weight`, A, [r, lin.inFeatures]],
      [`${name}.lora_B.weight`, B, [lin.outFeatures, r]],
      [`${name}.lora_B.bias`, config.lora_bias ? bias : undefined, [lin.outFeatures]],
    ] as const) {
      if (t && t.shape.join() !== want.join())
        throw new Error(`RuntimeError: size mismatch for ${k}: copying a param with shape [${t.shape}], the shape in current model is [${want}]`);
      if (t) consumed.add(k);
    }
    const rows = lin.rows;
    if (A && B) landed.push({ kind: 'lora', target: `${lin.source}.weight`, rows, swapHalves: lin.swapHalves, up: B, down: A, scale: alpha / r });
    if (bias && config.lora_bias) landed.push({ kind: 'bias', target: `${lin.source}.bias`, rows, swapHalves: lin.swapHalves, data: bias.data });
  }
  if (!targeted) throw new Error('ValueError: Target modules not found in the base model');
  dropped.push(...[...sd.keys()].filter((k) => !consumed.has(k)).map((k) => `transformer.${k}`));
  return { landed, dropped };
}
