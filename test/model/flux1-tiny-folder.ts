// Tiny random FLUX.1 checkpoint folders, as users have them, written by the tests: the text
// encoders and tokenizers of the text-encoder tests (tiny-flux-folder.ts: CLIP and T5 from
// ../shared/vectors/text-encoders-tiny), the tiny autoencoder of flux-pipeline-tiny, and a random
// FLUX-shaped transformer (hidden 32, one block of each kind, guidance embedding: a "dev").
// `bfl`: flux1-dev.safetensors (BF16) + ae.safetensors; `diffusers`: transformer/ and vae/ with
// diffusers' names, split from the same values the way diffusers' convert_flux_to_diffusers.py
// and its VAE converter do (written out here, independently of src/model/flux1's mapping).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../../src/engine/graph.ts';
import { Rng } from '../../src/engine/rng.ts';
import { bf16ToF32, f32ToBf16, serializeSafetensors, type TensorToWrite } from '../../src/engine/safetensors.ts';
import type { FluxParams } from '../../src/model/flux/config.ts';
import { Flux } from '../../src/model/flux/model.ts';
import { ParamStore } from '../../src/model/flux/params.ts';
import { readTensors, type Tensors } from '../../src/model/tensors.ts';
import { writeTinyFluxFolder } from './text-encoders/tiny-flux-folder.ts';

export const TINY_FLUX: FluxParams = {
  in_channels: 64,
  out_channels: 64,
  vec_in_dim: 32,
  context_in_dim: 32,
  hidden_size: 32,
  mlp_ratio: 4,
  num_heads: 2,
  depth: 1,
  depth_single_blocks: 1,
  axes_dim: [2, 8, 6],
  theta: 10_000,
  qkv_bias: true,
  guidance_embed: true,
};

const AE_DIR = new URL('../../../shared/vectors/flux-pipeline-tiny/', import.meta.url);

/** The transformer's values, rounded to bf16 so the BF16 file and the F32 diffusers one hold the same numbers. */
export function tinyTransformer(seed = 3, params: FluxParams = TINY_FLUX): Tensors {
  const store = new ParamStore(new Graph(), 'float32');
  new Flux(params, store);
  const rng = new Rng(seed);
  const out: Tensors = new Map();
  for (const [k, shape] of store.shapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const std = k.endsWith('.scale') ? 0.1 : 0.15;
    const data = rng.fillNormal(new Float32Array(n), std, k.endsWith('.scale') ? 1 : 0);
    out.set(k, { shape: [...shape], data: bf16ToF32(f32ToBf16(data)) });
  }
  return out;
}

export const tinyAe = (): Tensors => readTensors(readFileSync(new URL('ae.safetensors', AE_DIR))).tensors;

const file = (t: Tensors, dtype: 'F32' | 'BF16'): Uint8Array => {
  const out: Record<string, TensorToWrite> = {};
  for (const [k, v] of t) out[k] = { dtype, shape: v.shape, data: dtype === 'BF16' ? f32ToBf16(Float32Array.from(v.data)) : Float32Array.from(v.data) };
  return serializeSafetensors(out);
};

/** Rows [from, to) of a [rows, cols] (or [rows]) tensor. */
function rows(t: { shape: number[]; data: Float32Array | Float64Array }, from: number, to: number) {
  const cols = t.shape.length > 1 ? t.shape[1]! : 1;
  return { shape: t.shape.length > 1 ? [to - from, cols] : [to - from], data: Float32Array.from(t.data.subarray(from * cols, to * cols)) };
}

/** diffusers' convert_flux_to_diffusers.py, in the direction BFL → diffusers. */
export function toDiffusersTransformer(bfl: Tensors, p: FluxParams): Tensors {
  const H = p.hidden_size;
  const M = H * p.mlp_ratio;
  const out: Tensors = new Map();
  const get = (k: string) => {
    const v = bfl.get(k);
    if (!v) throw new Error(`no ${k}`);
    return { shape: v.shape, data: Float32Array.from(v.data) };
  };
  const copy = (from: string, to: string) => {
    for (const s of ['weight', 'bias']) if (bfl.has(`${from}.${s}`)) out.set(`${to}.${s}`, get(`${from}.${s}`));
  };
  const split = (from: string, to: string[], widths: number[]) => {
    for (const s of ['weight', 'bias']) {
      let at = 0;
      to.forEach((name, i) => {
        out.set(`${name}.${s}`, rows(get(`${from}.${s}`), at, at + widths[i]!));
        at += widths[i]!;
      });
    }
  };
  copy('img_in', 'x_embedder');
  copy('txt_in', 'context_embedder');
  copy('time_in.in_layer', 'time_text_embed.timestep_embedder.linear_1');
  copy('time_in.out_layer', 'time_text_embed.timestep_embedder.linear_2');
  copy('vector_in.in_layer', 'time_text_embed.text_embedder.linear_1');
  copy('vector_in.out_layer', 'time_text_embed.text_embedder.linear_2');
  copy('guidance_in.in_layer', 'time_text_embed.guidance_embedder.linear_1');
  copy('guidance_in.out_layer', 'time_text_embed.guidance_embedder.linear_2');
  for (let i = 0; i < p.depth; i++) {
    const b = `double_blocks.${i}`;
    const d = `transformer_blocks.${i}`;
    copy(`${b}.img_mod.lin`, `${d}.norm1.linear`);
    copy(`${b}.txt_mod.lin`, `${d}.norm1_context.linear`);
    split(`${b}.img_attn.qkv`, [`${d}.attn.to_q`, `${d}.attn.to_k`, `${d}.attn.to_v`], [H, H, H]);
    split(`${b}.txt_attn.qkv`, [`${d}.attn.add_q_proj`, `${d}.attn.add_k_proj`, `${d}.attn.add_v_proj`], [H, H, H]);
    out.set(`${d}.attn.norm_q.weight`, get(`${b}.img_attn.norm.query_norm.scale`));
    out.set(`${d}.attn.norm_k.weight`, get(`${b}.img_attn.norm.key_norm.scale`));
    out.set(`${d}.attn.norm_added_q.weight`, get(`${b}.txt_attn.norm.query_norm.scale`));
    out.set(`${d}.attn.norm_added_k.weight`, get(`${b}.txt_attn.norm.key_norm.scale`));
    copy(`${b}.img_attn.proj`, `${d}.attn.to_out.0`);
    copy(`${b}.txt_attn.proj`, `${d}.attn.to_add_out`);
    copy(`${b}.img_mlp.0`, `${d}.ff.net.0.proj`);
    copy(`${b}.img_mlp.2`, `${d}.ff.net.2`);
    copy(`${b}.txt_mlp.0`, `${d}.ff_context.net.0.proj`);
    copy(`${b}.txt_mlp.2`, `${d}.ff_context.net.2`);
  }
  for (let i = 0; i < p.depth_single_blocks; i++) {
    const b = `single_blocks.${i}`;
    const d = `single_transformer_blocks.${i}`;
    copy(`${b}.modulation.lin`, `${d}.norm.linear`);
    split(`${b}.linear1`, [`${d}.attn.to_q`, `${d}.attn.to_k`, `${d}.attn.to_v`, `${d}.proj_mlp`], [H, H, H, M]);
    out.set(`${d}.attn.norm_q.weight`, get(`${b}.norm.query_norm.scale`));
    out.set(`${d}.attn.norm_k.weight`, get(`${b}.norm.key_norm.scale`));
    copy(`${b}.linear2`, `${d}.proj_out`);
  }
  // swap_scale_shift: BFL's (shift, scale) → diffusers' (scale, shift)
  for (const s of ['weight', 'bias']) {
    const t = get(`final_layer.adaLN_modulation.1.${s}`);
    const half = t.shape[0]! / 2;
    const swapped = [rows(t, half, 2 * half), rows(t, 0, half)];
    const data = new Float32Array(t.data.length);
    data.set(swapped[0]!.data, 0);
    data.set(swapped[1]!.data, swapped[0]!.data.length);
    out.set(`norm_out.linear.${s}`, { shape: t.shape, data });
  }
  copy('final_layer.linear', 'proj_out');
  return out;
}

/** diffusers' VAE converter (convert_vae_pt_to_diffusers / convert_ldm_vae_checkpoint) on BFL's keys. */
export function toDiffusersVae(bfl: Tensors, levels: number): Tensors {
  const out: Tensors = new Map();
  for (const [key, t] of bfl) {
    const k = key
      .replace(/^(encoder|decoder)\.norm_out\./, '$1.conv_norm_out.')
      .replace(/^(encoder|decoder)\.mid\.block_1\./, '$1.mid_block.resnets.0.')
      .replace(/^(encoder|decoder)\.mid\.block_2\./, '$1.mid_block.resnets.1.')
      .replace(/^(encoder|decoder)\.mid\.attn_1\.norm\./, '$1.mid_block.attentions.0.group_norm.')
      .replace(/^(encoder|decoder)\.mid\.attn_1\.q\./, '$1.mid_block.attentions.0.to_q.')
      .replace(/^(encoder|decoder)\.mid\.attn_1\.k\./, '$1.mid_block.attentions.0.to_k.')
      .replace(/^(encoder|decoder)\.mid\.attn_1\.v\./, '$1.mid_block.attentions.0.to_v.')
      .replace(/^(encoder|decoder)\.mid\.attn_1\.proj_out\./, '$1.mid_block.attentions.0.to_out.0.')
      .replace(/^encoder\.down\.(\d+)\.block\.(\d+)\./, 'encoder.down_blocks.$1.resnets.$2.')
      .replace(/^encoder\.down\.(\d+)\.downsample\./, 'encoder.down_blocks.$1.downsamplers.0.')
      .replace(/^decoder\.up\.(\d+)\.block\.(\d+)\./, (_, i: string, j: string) => `decoder.up_blocks.${levels - 1 - Number(i)}.resnets.${j}.`)
      .replace(/^decoder\.up\.(\d+)\.upsample\./, (_, i: string) => `decoder.up_blocks.${levels - 1 - Number(i)}.upsamplers.0.`)
      .replace('.nin_shortcut.', '.conv_shortcut.');
    // attention projections are Linears in diffusers: [C, C, 1, 1] → [C, C]
    const isAttnLinear = /attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(k);
    out.set(k, { shape: isAttnLinear ? t.shape.slice(0, 2) : t.shape, data: Float32Array.from(t.data) });
  }
  return out;
}

/** Writes the folder in `layout` under a fresh temporary root, which it returns. */
export function writeTinyFlux1Folder(layout: 'bfl' | 'diffusers', transformer = tinyTransformer(), bflName = 'flux1-dev.safetensors'): string {
  const root = writeTinyFluxFolder();
  const ae = tinyAe();
  if (layout === 'bfl') {
    writeFileSync(join(root, bflName), file(transformer, 'BF16'));
    writeFileSync(join(root, 'ae.safetensors'), file(ae, 'F32'));
    return root;
  }
  mkdirSync(join(root, 'transformer'));
  mkdirSync(join(root, 'vae'));
  writeFileSync(
    join(root, 'transformer', 'config.json'),
    JSON.stringify({
      _class_name: 'FluxTransformer2DModel',
      attention_head_dim: 16,
      axes_dims_rope: TINY_FLUX.axes_dim,
      guidance_embeds: true,
      in_channels: 64,
      joint_attention_dim: 32,
      num_attention_heads: 2,
      num_layers: 1,
      num_single_layers: 1,
      patch_size: 1,
      pooled_projection_dim: 32,
    }),
  );
  writeFileSync(join(root, 'transformer', 'diffusion_pytorch_model.safetensors'), file(toDiffusersTransformer(transformer, TINY_FLUX), 'F32'));
  writeFileSync(
    join(root, 'vae', 'config.json'),
    JSON.stringify({
      _class_name: 'AutoencoderKL',
      block_out_channels: [32, 64, 64],
      in_channels: 3,
      out_channels: 3,
      latent_channels: 16,
      layers_per_block: 1,
      sample_size: 32,
      scaling_factor: 0.3611,
      shift_factor: 0.1159,
      use_quant_conv: false,
      use_post_quant_conv: false,
    }),
  );
  writeFileSync(join(root, 'vae', 'diffusion_pytorch_model.safetensors'), file(toDiffusersVae(ae, 3), 'F32'));
  return root;
}

/** A random rank-4 LoRA on every block Linear of TINY_FLUX, in BFL's layout (what /v1/finetune_import takes). */
export function tinyLoraFile(seed = 11): Uint8Array {
  const store = new ParamStore(new Graph(), 'float32', {
    rank: 4,
    targets: (p) => p.startsWith('double_blocks.') || p.startsWith('single_blocks.'),
    bias: false,
  });
  new Flux(TINY_FLUX, store);
  const rng = new Rng(seed);
  const out: Record<string, TensorToWrite> = {};
  for (const [k, shape] of store.loraShapes()) {
    out[k] = { dtype: 'F32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0.3) };
  }
  return serializeSafetensors(out);
}
