// diffusers' FluxTransformer2DModel checkpoint (`transformer/`) served under BFL's keys, so the
// one model definition (src/model/flux) loads it. The Linear correspondence is the LoRA code's
// (lora/diffusers-names.ts, flux-architecture.md §4.3): BFL's fused projections are diffusers'
// parts stacked by rows — qkv = to_q ‖ to_k ‖ to_v (add_*_proj for text), single blocks'
// linear1 = to_q ‖ to_k ‖ to_v ‖ proj_mlp — and norm_out stores (scale, shift) where BFL's final
// adaLN has (shift, scale). QK-norm scales are the attention's norm_q / norm_k (norm_added_* for text).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../../engine/graph.ts';
import type { FluxParams } from '../flux/config.ts';
import { Flux } from '../flux/model.ts';
import { ParamStore } from '../flux/params.ts';
import { bflRow, type DiffusersPart, diffusersParts } from '../lora/diffusers-names.ts';
import type { WeightSource } from './weight-source.ts';

const NORMS: [RegExp, string][] = [
  [/^double_blocks\.(\d+)\.img_attn\.norm\.query_norm\.scale$/, 'transformer_blocks.$1.attn.norm_q.weight'],
  [/^double_blocks\.(\d+)\.img_attn\.norm\.key_norm\.scale$/, 'transformer_blocks.$1.attn.norm_k.weight'],
  [/^double_blocks\.(\d+)\.txt_attn\.norm\.query_norm\.scale$/, 'transformer_blocks.$1.attn.norm_added_q.weight'],
  [/^double_blocks\.(\d+)\.txt_attn\.norm\.key_norm\.scale$/, 'transformer_blocks.$1.attn.norm_added_k.weight'],
  [/^single_blocks\.(\d+)\.norm\.query_norm\.scale$/, 'single_transformer_blocks.$1.attn.norm_q.weight'],
  [/^single_blocks\.(\d+)\.norm\.key_norm\.scale$/, 'single_transformer_blocks.$1.attn.norm_k.weight'],
];

/** Where a BFL parameter's values are in a diffusers checkpoint. */
export type DiffusersSource = { kind: 'copy'; key: string } | { kind: 'rows'; suffix: 'weight' | 'bias'; parts: DiffusersPart[] };

export function diffusersSourceOf(bflKey: string, shape: readonly number[], params: FluxParams): DiffusersSource {
  for (const [re, to] of NORMS) if (re.test(bflKey)) return { kind: 'copy', key: bflKey.replace(re, to) };
  const m = /^(.+)\.(weight|bias)$/.exec(bflKey);
  if (!m) throw new Error(`no diffusers name for '${bflKey}'`);
  return { kind: 'rows', suffix: m[2] as 'weight' | 'bias', parts: diffusersParts(m[1]!, shape[0]!, params) };
}

/** FluxParams from a diffusers transformer's tensor shapes and config.json (axes_dims_rope). */
export function paramsFromDiffusers(shapes: ReadonlyMap<string, readonly number[]>, config: Record<string, unknown>): FluxParams {
  const need = (k: string) => {
    const s = shapes.get(k);
    if (!s) throw new Error(`not a diffusers FLUX transformer: no '${k}'`);
    return s;
  };
  const count = (prefix: string) => {
    let n = 0;
    while (shapes.has(`${prefix}.${n}.norm1.linear.weight`) || shapes.has(`${prefix}.${n}.norm.linear.weight`)) n++;
    return n;
  };
  const [hidden, inChannels] = need('x_embedder.weight') as [number, number];
  const headDim = need('transformer_blocks.0.attn.norm_q.weight')[0]!;
  const axes = Array.isArray(config.axes_dims_rope) ? (config.axes_dims_rope as number[]) : headDim === 128 ? [16, 56, 56] : undefined;
  if (!axes) throw new Error('diffusers transformer config.json: no axes_dims_rope');
  return {
    in_channels: inChannels,
    out_channels: need('proj_out.weight')[0]!,
    vec_in_dim: need('time_text_embed.text_embedder.linear_1.weight')[1]!,
    context_in_dim: need('context_embedder.weight')[1]!,
    hidden_size: hidden,
    mlp_ratio: need('transformer_blocks.0.ff.net.0.proj.weight')[0]! / hidden,
    num_heads: hidden / headDim,
    depth: count('transformer_blocks'),
    depth_single_blocks: count('single_transformer_blocks'),
    axes_dim: axes,
    theta: 10_000,
    qkv_bias: shapes.has('transformer_blocks.0.attn.to_q.bias'),
    guidance_embed: shapes.has('time_text_embed.guidance_embedder.linear_1.weight'),
  };
}

/** A diffusers `transformer/` as a WeightSource under BFL keys; `params` come from its shapes and config. */
export class DiffusersTransformerSource implements WeightSource {
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly params: FluxParams;

  constructor(
    private readonly inner: WeightSource,
    config: Record<string, unknown>,
  ) {
    this.params = paramsFromDiffusers(inner.shapes, config);
    const store = new ParamStore(new Graph(), 'float32');
    new Flux(this.params, store);
    this.shapes = store.shapes();
  }

  static configOf(dir: string): Record<string, unknown> {
    return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  }

  read(key: string): Float32Array {
    const shape = this.shapes.get(key);
    if (!shape) throw new Error(`diffusers transformer: no BFL parameter '${key}'`);
    const src = diffusersSourceOf(key, shape, this.params);
    if (src.kind === 'copy') return this.inner.read(src.key);
    const rowLen = shape.length > 1 ? shape[1]! : 1;
    const out = new Float32Array(shape[0]! * rowLen);
    for (const part of src.parts) {
      const key = `${part.name}.${src.suffix}`;
      const data = this.inner.read(key);
      const rows = part.rows[1] - part.rows[0];
      if (data.length !== rows * rowLen) throw new Error(`diffusers transformer: '${key}' has ${data.length} values, ${rows}×${rowLen} expected`);
      for (let r = 0; r < rows; r++) out.set(data.subarray(r * rowLen, (r + 1) * rowLen), bflRow(part, r) * rowLen);
    }
    return out;
  }

  close(): void {
    this.inner.close();
  }
}
