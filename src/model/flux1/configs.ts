// The released FLUX.1 models (BFL util.py `configs`): their transformer FluxParams and how each
// is sampled. dev and its tools are guidance-distilled and sampled on the shifted schedule;
// schnell is timestep-distilled: no guidance embedding, 4 steps on the unshifted schedule.
// The T5 context length is BFL's `max_length` (cli.py: 256 for schnell, 512 otherwise).

import type { FluxParams } from '../flux/config.ts';

export type Flux1Variant = 'dev' | 'schnell' | 'canny-dev' | 'depth-dev' | 'fill-dev';

export interface Flux1Model {
  variant: Flux1Variant;
  flux: FluxParams;
  /** `get_schedule(..., shift=…)`: true for dev-style models. */
  shift: boolean;
  /** T5 tokens fed as `txt`. */
  t5Tokens: number;
  /** What the channels after the noisy latents hold (BFL prepare_control / prepare_fill). */
  condition?: 'canny' | 'depth' | 'fill';
  defaultSteps: number;
}

const BASE: Omit<FluxParams, 'in_channels' | 'guidance_embed'> = {
  out_channels: 64,
  vec_in_dim: 768,
  context_in_dim: 4096,
  hidden_size: 3072,
  mlp_ratio: 4.0,
  num_heads: 24,
  depth: 19,
  depth_single_blocks: 38,
  axes_dim: [16, 56, 56],
  theta: 10_000,
  qkv_bias: true,
};

export const FLUX1_MODELS: Record<Flux1Variant, Flux1Model> = {
  dev: { variant: 'dev', flux: { ...BASE, in_channels: 64, guidance_embed: true }, shift: true, t5Tokens: 512, defaultSteps: 28 },
  schnell: { variant: 'schnell', flux: { ...BASE, in_channels: 64, guidance_embed: false }, shift: false, t5Tokens: 256, defaultSteps: 4 },
  // Canny/Depth: 64 noisy + 64 packed control latents.
  'canny-dev': {
    variant: 'canny-dev',
    flux: { ...BASE, in_channels: 128, guidance_embed: true },
    shift: true,
    t5Tokens: 512,
    condition: 'canny',
    defaultSteps: 50,
  },
  'depth-dev': {
    variant: 'depth-dev',
    flux: { ...BASE, in_channels: 128, guidance_embed: true },
    shift: true,
    t5Tokens: 512,
    condition: 'depth',
    defaultSteps: 50,
  },
  // Fill: 64 noisy + 64 masked-image latents + 256 mask channels (8×8 pixels × 2×2 packing).
  'fill-dev': {
    variant: 'fill-dev',
    flux: { ...BASE, in_channels: 384, guidance_embed: true },
    shift: true,
    t5Tokens: 512,
    condition: 'fill',
    defaultSteps: 50,
  },
};

/**
 * The variant a transformer's own shapes imply: img_in's width against final_layer's says which
 * conditioning it takes (none: in = out; Canny/Depth: in = 2·out, the control latents; Fill: more,
 * the masked-image latents and the mask), guidance_in says dev-style or schnell. `hint` (a file
 * name) only tells depth from canny, which have identical shapes.
 */
export function variantFromShapes(shapes: ReadonlyMap<string, readonly number[]>, hint = ''): Flux1Variant {
  const imgIn = shapes.get('img_in.weight');
  const out = shapes.get('final_layer.linear.weight');
  if (!imgIn || !out) throw new Error("not a FLUX.1 transformer: no 'img_in.weight' / 'final_layer.linear.weight'");
  const guidance = shapes.has('guidance_in.in_layer.weight');
  const [width, latent] = [imgIn[1]!, out[0]!];
  if (width === latent) return guidance ? 'dev' : 'schnell';
  if (!guidance) throw new Error(`not a FLUX.1 model: img_in takes ${width} channels (conditioning) but there is no guidance embedding`);
  if (width === 2 * latent) return /depth/i.test(hint) ? 'depth-dev' : 'canny-dev';
  if (width > 2 * latent) return 'fill-dev';
  throw new Error(`not a FLUX.1 transformer: img_in takes ${width} channels for ${latent} latent channels`);
}

/** The FluxParams a checkpoint's shapes imply, so a smaller FLUX-shaped checkpoint (e.g. a test's) loads too. */
export function paramsFromShapes(shapes: ReadonlyMap<string, readonly number[]>, axesDim?: number[]): FluxParams {
  const need = (k: string) => {
    const s = shapes.get(k);
    if (!s) throw new Error(`not a FLUX.1 transformer: no '${k}'`);
    return s;
  };
  const count = (prefix: string) => {
    let n = 0;
    while (shapes.has(`${prefix}.${n}.img_mod.lin.weight`) || shapes.has(`${prefix}.${n}.modulation.lin.weight`)) n++;
    return n;
  };
  const [hidden, inChannels] = need('img_in.weight') as [number, number];
  const qNorm = need('double_blocks.0.img_attn.norm.query_norm.scale')[0]!;
  const mlp = need('double_blocks.0.img_mlp.0.weight')[0]!;
  const headDim = qNorm;
  // The RoPE split is not in the weights: FLUX.1's [16, 56, 56] at head dim 128 (diffusers'
  // config.json says it as axes_dims_rope), the same proportions otherwise.
  const axes = axesDim ?? (headDim === 128 ? [16, 56, 56] : splitAxes(headDim));
  return {
    in_channels: inChannels,
    out_channels: need('final_layer.linear.weight')[0]!,
    vec_in_dim: need('vector_in.in_layer.weight')[1]!,
    context_in_dim: need('txt_in.weight')[1]!,
    hidden_size: hidden,
    mlp_ratio: mlp / hidden,
    num_heads: hidden / headDim,
    depth: count('double_blocks'),
    depth_single_blocks: count('single_blocks'),
    axes_dim: axes,
    theta: 10_000,
    qkv_bias: shapes.has('double_blocks.0.img_attn.qkv.bias'),
    guidance_embed: shapes.has('guidance_in.in_layer.weight'),
  };
}

function splitAxes(headDim: number): number[] {
  // Same proportions as [16, 56, 56] of 128, each even.
  const first = Math.max(2, 2 * Math.round(headDim / 16));
  const rest = headDim - first;
  const second = 2 * Math.ceil(rest / 4);
  return [first, second, rest - second];
}
