// diffusers / PEFT layout: `transformer.<diffusers path>.lora_A.weight` [r, in] and
// `.lora_B.weight` [out, r] (+ `.lora_B.bias` with PEFT's lora_bias), scale lora_alpha/r from
// the `lora_adapter_metadata` JSON in the safetensors header (absent: α = r) or a
// `<module>.alpha` tensor (kohya-style alphas some trainers leave in diffusers-named files).
//
// diffusers writes that JSON with every LoraConfig field under the component's prefix
// ("transformer.r", "transformer.lora_alpha", …: lora_base.py `_pack_dict_with_prefix`) and
// keeps only the prefixed ones when it loads (peft.py `load_lora_adapter`, prefix="transformer"):
// an unprefixed {"r": …} reaches LoraConfig as {} — no target_modules, and PEFT refuses to
// inject. So it is written prefixed; both spellings are read.
//
// Export splits a fused BFL LoRA into its diffusers parts, which share A and take their rows
// of B. Import puts parts back together: parts sharing one A (our own exports) give the
// original rank-r module; independent parts give down = cat(A_p), up = block-diag(B_p), as
// kohya's convert_flux_lora.py does.

import type { FluxParams } from '../flux/config.ts';
import type { Tensor, Tensors } from '../tensors.ts';
import { bflRow, type DiffusersPart, diffusersParts, widthsOf } from './diffusers-names.ts';
import { checkModule, type LinearShape, type Lora, type LoraModule } from './lora.ts';

const PREFIX = 'transformer.';
export const PEFT_METADATA_KEY = 'lora_adapter_metadata';

export interface AdapterMetadata {
  r?: number;
  lora_alpha?: number;
  alpha_pattern?: Record<string, number>;
  rank_pattern?: Record<string, number>;
  lora_bias?: boolean;
  target_modules?: string[];
}

function partRows(m: LoraModule, part: DiffusersPart): { up: Float32Array; bias?: Float32Array } {
  const n = part.rows[1] - part.rows[0];
  const up = new Float32Array(n * m.rank);
  const bias = m.bias ? new Float32Array(n) : undefined;
  for (let r = 0; r < n; r++) {
    const src = bflRow(part, r);
    up.set(m.up.subarray(src * m.rank, (src + 1) * m.rank), r * m.rank);
    if (bias) bias[r] = m.bias![src]!;
  }
  return { up, bias };
}

/**
 * `params` decides where fused projections split; without it each module's own shape does
 * (diffusers-names.ts widthsOf), which is the same for any FLUX config.
 */
export function loraToPeft(lora: Lora, params?: FluxParams): { tensors: Tensors; metadata: Record<string, string> } {
  const tensors: Tensors = new Map();
  const ranks = new Map<string, number>();
  let anyBias = false;
  for (const [path, m] of lora) {
    for (const part of diffusersParts(path, m.outFeatures, params ?? widthsOf(m))) {
      const { up, bias } = partRows(m, part);
      const key = PREFIX + part.name;
      const n = part.rows[1] - part.rows[0];
      tensors.set(`${key}.lora_A.weight`, { shape: [m.rank, m.inFeatures], data: m.down });
      tensors.set(`${key}.lora_B.weight`, { shape: [n, m.rank], data: up });
      if (bias) tensors.set(`${key}.lora_B.bias`, { shape: [n], data: bias });
      ranks.set(part.name, m.rank);
      anyBias ||= !!bias;
    }
  }
  // α = r for every module (scale 1); modules whose rank differs from the common one say so.
  const r = Math.max(0, ...ranks.values());
  const pattern = Object.fromEntries([...ranks].filter(([, k]) => k !== r));
  const meta: AdapterMetadata = {
    r,
    lora_alpha: r,
    rank_pattern: pattern,
    alpha_pattern: pattern,
    lora_bias: anyBias,
    target_modules: [...ranks.keys()],
  };
  const packed = Object.fromEntries(Object.entries(meta).map(([k, v]) => [PREFIX + k, v]));
  return { tensors, metadata: { [PEFT_METADATA_KEY]: JSON.stringify(packed) } };
}

/** The transformer's LoraConfig fields: diffusers' prefixed spelling, or a bare config as older writers left it. */
export function parseAdapterMetadata(raw: string | undefined): AdapterMetadata | undefined {
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`PEFT LoRA: the ${PEFT_METADATA_KEY} metadata is not JSON`);
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const entries = Object.entries(json as Record<string, unknown>);
  const prefixed = entries.filter(([k]) => k.startsWith(PREFIX));
  if (!prefixed.length) return json as AdapterMetadata;
  return Object.fromEntries(prefixed.map(([k, v]) => [k.slice(PREFIX.length), v])) as AdapterMetadata;
}

function alphaFor(name: string, rank: number, meta: AdapterMetadata | undefined, alphaTensor: Tensor | undefined): number {
  if (alphaTensor) return alphaTensor.data[0]! || rank;
  const fromPattern = meta?.alpha_pattern?.[name];
  return fromPattern ?? meta?.lora_alpha ?? rank;
}

function sameData(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function loraFromPeft(tensors: Tensors, linears: ReadonlyMap<string, LinearShape>, params: FluxParams, metadata: Record<string, string> = {}): Lora {
  const meta = parseAdapterMetadata(metadata[PEFT_METADATA_KEY]);
  const lora: Lora = new Map();
  const used = new Set<string>();
  for (const [path, shape] of linears) {
    const found: { part: DiffusersPart; A: Tensor; B: Tensor; bias?: Tensor; scale: number }[] = [];
    for (const part of diffusersParts(path, shape.outFeatures, params)) {
      const key = PREFIX + part.name;
      const A = tensors.get(`${key}.lora_A.weight`);
      const B = tensors.get(`${key}.lora_B.weight`);
      if (!A || !B) continue;
      const bias = tensors.get(`${key}.lora_B.bias`);
      const alpha = tensors.get(`${key}.alpha`);
      [`${key}.lora_A.weight`, `${key}.lora_B.weight`, `${key}.lora_B.bias`, `${key}.alpha`].forEach((k) => {
        used.add(k);
      });
      found.push({ part, A, B, bias, scale: alphaFor(part.name, A.shape[0]!, meta, alpha) / A.shape[0]! });
    }
    if (!found.length) continue;
    const shared = found.every((f) => f.A.shape[0] === found[0]!.A.shape[0] && sameData(f.A.data, found[0]!.A.data));
    const rank = shared ? found[0]!.A.shape[0]! : found.reduce((n, f) => n + f.A.shape[0]!, 0);
    const m: LoraModule = {
      rank,
      inFeatures: shape.inFeatures,
      outFeatures: shape.outFeatures,
      down: new Float32Array(rank * shape.inFeatures),
      up: new Float32Array(shape.outFeatures * rank),
      bias: found.some((f) => f.bias) ? new Float32Array(shape.outFeatures) : undefined,
    };
    let col = 0;
    for (const f of found) {
      const r = f.A.shape[0]!;
      const key = PREFIX + f.part.name;
      if (f.A.shape[1] !== shape.inFeatures)
        throw new Error(`PEFT LoRA: '${key}.lora_A.weight' has ${f.A.shape[1]} inputs, the model's Linear ${shape.inFeatures}`);
      if (f.B.shape[0] !== f.part.rows[1] - f.part.rows[0]) {
        throw new Error(`PEFT LoRA: '${key}.lora_B.weight' has ${f.B.shape[0]} rows, the model's module ${f.part.rows[1] - f.part.rows[0]}`);
      }
      if (f.B.shape[1] !== r) throw new Error(`PEFT LoRA: '${key}.lora_B.weight' has rank ${f.B.shape[1]}, its lora_A ${r}`);
      if (!shared || f === found[0]) m.down.set(f.A.data, col * shape.inFeatures);
      for (let r2 = 0; r2 < f.B.shape[0]!; r2++) {
        const dst = bflRow(f.part, r2);
        for (let k = 0; k < r; k++) m.up[dst * rank + col + k] = f.B.data[r2 * r + k]! * f.scale;
        if (f.bias) m.bias![dst] = f.bias.data[r2]!;
      }
      if (!shared) col += r;
    }
    checkModule(path, m);
    lora.set(path, m);
  }
  const unknown = [...tensors.keys()].filter((k) => !used.has(k));
  if (unknown.length) throw new Error(`PEFT LoRA: no BFL Linear for ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''}`);
  return lora;
}

export function isPeftLayout(keys: Iterable<string>): boolean {
  for (const k of keys) if (k.startsWith(PREFIX) && k.endsWith('.lora_A.weight')) return true;
  return false;
}
