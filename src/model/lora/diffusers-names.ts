// Where each BFL Linear lives in diffusers' FluxTransformer2DModel (flux-architecture.md §4.3).
// Fused BFL projections are split: qkv into to_q/to_k/to_v (add_*_proj for text), and the
// single blocks' linear1 into to_q/to_k/to_v/proj_mlp, each owning a range of output rows.
// diffusers' norm_out orders (scale, shift) where BFL's final adaLN has (shift, scale).

import type { FluxParams } from '../flux/config.ts';
import { fluxDims } from '../flux/config.ts';
import type { LinearShape } from './lora.ts';

export interface DiffusersPart {
  /** diffusers module path, without the `transformer.` prefix. */
  name: string;
  /** Output rows [start, end) of the BFL Linear that this module holds. */
  rows: [number, number];
  /** The two halves of the rows are swapped (norm_out ↔ final_layer.adaLN_modulation.1). */
  swapHalves?: boolean;
}

const GLOBAL: Record<string, string> = {
  img_in: 'x_embedder',
  txt_in: 'context_embedder',
  'time_in.in_layer': 'time_text_embed.timestep_embedder.linear_1',
  'time_in.out_layer': 'time_text_embed.timestep_embedder.linear_2',
  'vector_in.in_layer': 'time_text_embed.text_embedder.linear_1',
  'vector_in.out_layer': 'time_text_embed.text_embedder.linear_2',
  'guidance_in.in_layer': 'time_text_embed.guidance_embedder.linear_1',
  'guidance_in.out_layer': 'time_text_embed.guidance_embedder.linear_2',
  'final_layer.linear': 'proj_out',
};

const DOUBLE: Record<string, string> = {
  'img_attn.proj': 'attn.to_out.0',
  'txt_attn.proj': 'attn.to_add_out',
  'img_mlp.0': 'ff.net.0.proj',
  'img_mlp.2': 'ff.net.2',
  'txt_mlp.0': 'ff_context.net.0.proj',
  'txt_mlp.2': 'ff_context.net.2',
  'img_mod.lin': 'norm1.linear',
  'txt_mod.lin': 'norm1_context.linear',
};

const SINGLE: Record<string, string> = {
  linear2: 'proj_out',
  'modulation.lin': 'norm.linear',
};

/** The widths that decide where fused projections split: hidden size H and MLP width M. */
export interface SplitWidths {
  hidden: number;
  mlpHidden: number;
}

/**
 * The widths a fused Linear's own shape implies, so a LoRA converts without its model's config:
 * qkv and linear1 read the hidden state (in = H), linear1 writes 3H + M rows. Other Linears do
 * not split, and their widths are never read.
 */
export const widthsOf = (shape: LinearShape): SplitWidths => ({ hidden: shape.inFeatures, mlpHidden: shape.outFeatures - 3 * shape.inFeatures });

/** The diffusers modules holding the BFL Linear at `path` with `outFeatures` rows. */
export function diffusersParts(path: string, outFeatures: number, widths: FluxParams | SplitWidths): DiffusersPart[] {
  const { hidden: H, mlpHidden: M } = 'hidden_size' in widths ? fluxDims(widths) : widths;
  const whole = (name: string): DiffusersPart[] => [{ name, rows: [0, outFeatures] }];
  const thirds = (prefix: string, names: string[]): DiffusersPart[] =>
    names.map((n, i) => ({ name: `${prefix}.${n}`, rows: [i * H, (i + 1) * H] as [number, number] }));

  if (path === 'final_layer.adaLN_modulation.1') return [{ name: 'norm_out.linear', rows: [0, outFeatures], swapHalves: true }];
  if (GLOBAL[path]) return whole(GLOBAL[path]);
  let m = /^double_blocks\.(\d+)\.(.+)$/.exec(path);
  if (m) {
    const prefix = `transformer_blocks.${m[1]}`;
    if (m[2] === 'img_attn.qkv') return thirds(prefix, ['attn.to_q', 'attn.to_k', 'attn.to_v']);
    if (m[2] === 'txt_attn.qkv') return thirds(prefix, ['attn.add_q_proj', 'attn.add_k_proj', 'attn.add_v_proj']);
    if (DOUBLE[m[2]!]) return whole(`${prefix}.${DOUBLE[m[2]!]}`);
  }
  m = /^single_blocks\.(\d+)\.(.+)$/.exec(path);
  if (m) {
    const prefix = `single_transformer_blocks.${m[1]}`;
    if (m[2] === 'linear1') {
      return [...thirds(prefix, ['attn.to_q', 'attn.to_k', 'attn.to_v']), { name: `${prefix}.proj_mlp`, rows: [3 * H, 3 * H + M] }];
    }
    if (SINGLE[m[2]!]) return whole(`${prefix}.${SINGLE[m[2]!]}`);
  }
  throw new Error(`no diffusers name for the BFL Linear '${path}'`);
}

/** Row r of a part ↔ row of the BFL Linear. */
export function bflRow(part: DiffusersPart, r: number): number {
  const [start, end] = part.rows;
  if (!part.swapHalves) return start + r;
  const half = (end - start) / 2;
  return start + (r < half ? r + half : r - half);
}
