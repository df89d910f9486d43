// diffusers' AutoencoderKL (`vae/`, FLUX.1's: no quant_conv) served under BFL's AutoEncoder keys.
// The correspondence (diffusers' convert_vae_pt_to_diffusers / BFL autoencoder.py):
//   {enc,dec}oder.norm_out        ← conv_norm_out
//   encoder.down.i.block.j.*      ← encoder.down_blocks.i.resnets.j.* (nin_shortcut ← conv_shortcut)
//   encoder.down.i.downsample     ← encoder.down_blocks.i.downsamplers.0
//   decoder.up.i.*                ← decoder.up_blocks.(n−1−i).* (diffusers lists the up path in decode order)
//   decoder.up.i.upsample         ← decoder.up_blocks.(n−1−i).upsamplers.0
//   mid.block_1 / block_2         ← mid_block.resnets.0 / 1
//   mid.attn_1.{norm,q,k,v,proj_out} ← mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}
// diffusers' attention projections are Linears [C, C]; BFL's are 1×1 convs [C, C, 1, 1]: same values.

import { Graph } from '../../engine/graph.ts';
import { AutoEncoder } from '../ae/autoencoder.ts';
import { type AutoEncoderParams, parseAeParams } from '../ae/config.ts';
import { AeParamStore } from '../ae/params.ts';
import type { WeightSource } from './weight-source.ts';

const ATTN: Record<string, string> = { norm: 'group_norm', q: 'to_q', k: 'to_k', v: 'to_v', proj_out: 'to_out.0' };

/** The diffusers key holding BFL's `key`; `levels` = len(ch_mult). */
export function diffusersVaeKey(key: string, levels: number): string {
  const parts = key.split('.');
  const half = parts[0]!; // encoder | decoder
  const rest = parts.slice(1);
  const resnet = (xs: string[]) => xs.map((x) => (x === 'nin_shortcut' ? 'conv_shortcut' : x));
  const tail = (xs: string[]) => xs.join('.');
  if (rest[0] === 'norm_out') return `${half}.conv_norm_out.${tail(rest.slice(1))}`;
  if (rest[0] === 'mid') {
    const [, mod, ...r] = rest;
    if (mod === 'block_1' || mod === 'block_2') return `${half}.mid_block.resnets.${mod === 'block_1' ? 0 : 1}.${tail(resnet(r))}`;
    if (mod === 'attn_1') return `${half}.mid_block.attentions.0.${ATTN[r[0]!] ?? r[0]}.${tail(r.slice(1))}`;
  }
  if (rest[0] === 'down' || rest[0] === 'up') {
    const i = Number(rest[1]);
    const level = rest[0] === 'up' ? levels - 1 - i : i;
    const blocks = rest[0] === 'up' ? 'up_blocks' : 'down_blocks';
    const [mod, ...r] = rest.slice(2);
    if (mod === 'block') return `${half}.${blocks}.${level}.resnets.${r[0]}.${tail(resnet(r.slice(1)))}`;
    if (mod === 'downsample') return `${half}.${blocks}.${level}.downsamplers.0.${tail(r)}`;
    if (mod === 'upsample') return `${half}.${blocks}.${level}.upsamplers.0.${tail(r)}`;
  }
  return key; // conv_in, conv_out
}

/** BFL AutoEncoderParams from a diffusers vae/config.json. */
export function aeParamsFromDiffusers(config: Record<string, unknown>): AutoEncoderParams {
  const blocks = config.block_out_channels as number[] | undefined;
  if (!Array.isArray(blocks) || !blocks.length) throw new Error('diffusers vae config.json: no block_out_channels');
  const ch = blocks[0]!;
  return parseAeParams({
    resolution: config.sample_size ?? 256,
    in_channels: config.in_channels ?? 3,
    ch,
    out_ch: config.out_channels ?? 3,
    ch_mult: blocks.map((b) => b / ch),
    num_res_blocks: config.layers_per_block ?? 2,
    z_channels: config.latent_channels ?? 16,
    scale_factor: config.scaling_factor ?? 0.3611,
    shift_factor: config.shift_factor ?? 0.1159,
  });
}

export class DiffusersVaeSource implements WeightSource {
  readonly shapes: ReadonlyMap<string, readonly number[]>;

  constructor(
    private readonly inner: WeightSource,
    readonly params: AutoEncoderParams,
  ) {
    const store = new AeParamStore(new Graph(), 'float32');
    new AutoEncoder(params, store);
    this.shapes = store.shapes();
  }

  read(key: string): Float32Array {
    const shape = this.shapes.get(key);
    if (!shape) throw new Error(`diffusers vae: no BFL parameter '${key}'`);
    const from = diffusersVaeKey(key, this.params.ch_mult.length);
    const data = this.inner.read(from);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`diffusers vae: '${from}' has ${data.length} values, '${key}' needs [${shape.join(', ')}]`);
    return data;
  }

  close(): void {
    this.inner.close();
  }
}
