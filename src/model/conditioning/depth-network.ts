// The monocular depth estimator's network: a small ViT-style dense predictor (DPT-like in spirit,
// far smaller) built from the FLUX modules' pieces — ParamStore, Linear, SelfAttention (fused qkv
// with QK-RMSNorm), attention with 2-D RoPE — so the same definition trains (weights fed,
// gradients taken) and infers (weights frozen), like the FLUX graphs. Parameter keys read like a
// timm ViT checkpoint: `patch_embed.proj.weight`, `blocks.0.attn.qkv.weight`, `head.proj.bias`, …
//
// Design, for an image of rows × cols 8 px patches:
// - patch_embed: each 8×8×3 patch (imageToTokens' channel-major 192 features in [−1, 1]) → width.
// - pos_embed: a Linear of Fourier features of the patch centre's *normalised* (y, x) in [0, 1].
//   RoPE alone gives attention only relative offsets, and on a plain ground every token looks the
//   same, yet the ground's depth is a function of the absolute row (far at the top, near at the
//   bottom). Normalised coordinates serve any grid size, unlike a learnt table.
// - blocks: pre-norm transformer blocks (LayerNorm → attention with RoPE over (row, col) → residual;
//   LayerNorm → GELU MLP → residual). RoPE's relative offsets suit cut-outs anywhere in the frame.
// - head: LayerNorm → Linear to p² = 64 values per token (that patch's 8×8 depth pixels, row-major)
//   → sigmoid, so the output is inverse depth in (0, 1), near = 1.

import type { DType } from '../../engine/dtype.ts';
import { Graph, type Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { Feeds } from '../../engine/session.ts';
import { attention, type PositionEmbedding, SelfAttention } from '../flux/attention.ts';
import { Linear } from '../flux/linear.ts';
import { ParamStore } from '../flux/params.ts';
import { ropeTables } from '../flux/rope.ts';

export interface DepthNetConfig {
  /** Pixels per patch side. */
  patch: number;
  /** Token width. */
  hidden: number;
  heads: number;
  /** Transformer blocks. */
  depth: number;
  /** MLP hidden = mlp_ratio · hidden. */
  mlp_ratio: number;
  /** RoPE: pairs per axis (row, col) = axes_dim / 2, base frequency theta. */
  axes_dim: [number, number];
  theta: number;
  /** Fourier frequencies (multiples of π) of each normalised coordinate fed to pos_embed. */
  pos_frequencies: number;
  /** Tokens of the grid an image is resized to (bucketFor), e.g. 256 = 16 × 16 at 128 px. */
  tokens: number;
}

/**
 * 4 blocks of width 128 (0.83 M parameters, 1.7 MB in F16): at 256 tokens a training step of 8
 * images is ~1 s on one core, so a 25-minute budget sees ~10 k scenes. The task — figure/ground,
 * the cut-out's size, the row — needs little capacity; the scenes seen count for more than width.
 */
export const DEPTH_NET_CONFIG: DepthNetConfig = {
  patch: 8,
  hidden: 128,
  heads: 4,
  depth: 4,
  mlp_ratio: 2,
  axes_dim: [16, 16],
  // a 16-token axis needs wavelengths of ~2 to ~60 tokens, not FLUX's 10 000-base spread
  theta: 100,
  pos_frequencies: 4,
  tokens: 256,
};

/** Names of the fed data inputs. */
export const DEPTH_INPUT = { img: 'img', pos: 'pos', peCos: 'pe_cos', peSin: 'pe_sin' } as const;

export const posFeatures = (c: DepthNetConfig) => 2 * (1 + 2 * c.pos_frequencies);

/** LayerNorm with an affine weight and bias (`<path>.weight`, `<path>.bias`). */
export class LayerNorm {
  readonly weight: Value;
  readonly bias: Value;

  constructor(store: ParamStore, path: string, dim: number) {
    this.weight = store.param(`${path}.weight`, [dim]);
    this.bias = store.param(`${path}.bias`, [dim]);
  }

  forward(x: Value): Value {
    return F.layerNorm(x, 1e-6, this.weight, this.bias);
  }
}

export class Mlp {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(store: ParamStore, path: string, hidden: number, mlpHidden: number) {
    this.fc1 = new Linear(store, `${path}.fc1`, hidden, mlpHidden);
    this.fc2 = new Linear(store, `${path}.fc2`, mlpHidden, hidden);
  }

  forward(x: Value): Value {
    return this.fc2.forward(F.gelu(this.fc1.forward(x), 'tanh'));
  }
}

/** Pre-norm transformer block; the attention weights are FLUX's SelfAttention (qkv, QK-norm, proj). */
export class Block {
  readonly norm1: LayerNorm;
  readonly attn: SelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(store: ParamStore, path: string, c: DepthNetConfig) {
    this.norm1 = new LayerNorm(store, `${path}.norm1`, c.hidden);
    this.attn = new SelfAttention(store, `${path}.attn`, c.hidden, c.heads, true);
    this.norm2 = new LayerNorm(store, `${path}.norm2`, c.hidden);
    this.mlp = new Mlp(store, `${path}.mlp`, c.hidden, c.mlp_ratio * c.hidden);
  }

  forward(x: Value, pe: PositionEmbedding): Value {
    const [q, k, v] = this.attn.project(this.norm1.forward(x));
    const h = F.add(x, this.attn.proj.forward(attention(q, k, v, pe)));
    return F.add(h, this.mlp.forward(this.norm2.forward(h)));
  }
}

export class DepthHead {
  readonly norm: LayerNorm;
  readonly proj: Linear;

  constructor(store: ParamStore, path: string, c: DepthNetConfig) {
    this.norm = new LayerNorm(store, `${path}.norm`, c.hidden);
    this.proj = new Linear(store, `${path}.proj`, c.hidden, c.patch * c.patch);
  }

  forward(x: Value): Value {
    return F.sigmoid(this.proj.forward(this.norm.forward(x)));
  }
}

export class DepthNet {
  readonly patchEmbed: Linear;
  readonly posEmbed: Linear;
  readonly blocks: Block[];
  readonly head: DepthHead;

  constructor(
    store: ParamStore,
    readonly config: DepthNetConfig,
  ) {
    const c = config;
    if (c.hidden % c.heads || c.axes_dim[0] + c.axes_dim[1] !== c.hidden / c.heads) {
      throw new Error(`depth net: axes_dim ${c.axes_dim.join('+')} must fill the head dim ${c.hidden / c.heads}`);
    }
    this.patchEmbed = new Linear(store, 'patch_embed.proj', 3 * c.patch * c.patch, c.hidden);
    this.posEmbed = new Linear(store, 'pos_embed.proj', posFeatures(c), c.hidden);
    this.blocks = Array.from({ length: c.depth }, (_, i) => new Block(store, `blocks.${i}`, c));
    this.head = new DepthHead(store, 'head', c);
  }

  /** img [B, L, 3p²], pos [B, L, posFeatures] → inverse depth [B, L, p²]. */
  forward(img: Value, pos: Value, pe: PositionEmbedding): Value {
    let x = F.add(this.patchEmbed.forward(img), this.posEmbed.forward(pos));
    this.blocks.forEach((b, i) => {
      x = img.graph.scope(`blocks.${i}`, () => b.forward(x, pe));
    });
    return this.head.forward(x);
  }
}

export interface DepthGraph {
  graph: Graph;
  store: ParamStore;
  net: DepthNet;
  out: Value;
}

export function buildDepthGraph(c: DepthNetConfig, batch: number, tokens: number, dtype: DType = 'float32'): DepthGraph {
  const graph = new Graph();
  const store = new ParamStore(graph, dtype);
  const D = c.hidden / c.heads;
  const img = graph.input(DEPTH_INPUT.img, [batch, tokens, 3 * c.patch * c.patch], dtype);
  const pos = graph.input(DEPTH_INPUT.pos, [batch, tokens, posFeatures(c)], dtype);
  const pe = { cos: graph.input(DEPTH_INPUT.peCos, [batch, tokens, 1, D], dtype), sin: graph.input(DEPTH_INPUT.peSin, [batch, tokens, 1, D], dtype) };
  const net = new DepthNet(store, c);
  return { graph, store, net, out: net.forward(img, pos, pe) };
}

/** The position feeds (normalised-coordinate features and RoPE tables) of a rows × cols grid, repeated over the batch. */
export function positionFeeds(c: DepthNetConfig, rows: number, cols: number, batch: number): Feeds {
  const L = rows * cols;
  const nf = posFeatures(c);
  const pos = new Float32Array(batch * L * nf);
  const ids = new Float64Array(batch * L * 2);
  for (let r = 0; r < rows; r++) {
    for (let col = 0; col < cols; col++) {
      const t = r * cols + col;
      const f: number[] = [];
      for (const u of [(r + 0.5) / rows, (col + 0.5) / cols]) {
        f.push(2 * u - 1);
        for (let k = 1; k <= c.pos_frequencies; k++) f.push(Math.sin(Math.PI * k * u), Math.cos(Math.PI * k * u));
      }
      for (let b = 0; b < batch; b++) {
        pos.set(f, (b * L + t) * nf);
        ids[(b * L + t) * 2] = r;
        ids[(b * L + t) * 2 + 1] = col;
      }
    }
  }
  const rope = ropeTables(ids, batch, L, c.axes_dim, c.theta);
  return { [DEPTH_INPUT.pos]: pos, [DEPTH_INPUT.peCos]: Float32Array.from(rope.cos), [DEPTH_INPUT.peSin]: Float32Array.from(rope.sin) };
}

/** [H·W] depth → [rows·cols, p²] tokens (each patch's pixels row-major), written at `offset` of `out`. */
export function depthToTokens(depth: ArrayLike<number>, width: number, height: number, patch: number, out?: Float32Array, offset = 0): Float32Array {
  const rows = height / patch;
  const cols = width / patch;
  if (!Number.isInteger(rows) || !Number.isInteger(cols)) throw new Error(`${width}x${height} is not a multiple of the ${patch}px patch`);
  const o = out ?? new Float32Array(width * height);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let dy = 0; dy < patch; dy++)
        for (let dx = 0; dx < patch; dx++) o[offset + (r * cols + c) * patch * patch + dy * patch + dx] = depth[(r * patch + dy) * width + c * patch + dx]!;
  return o;
}

/** The inverse of depthToTokens: [rows·cols, p²] → [H·W]. */
export function tokensToDepth(tokens: ArrayLike<number>, rows: number, cols: number, patch: number): Float32Array {
  const width = cols * patch;
  const out = new Float32Array(rows * cols * patch * patch);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let dy = 0; dy < patch; dy++)
        for (let dx = 0; dx < patch; dx++) out[(r * patch + dy) * width + c * patch + dx] = tokens[(r * cols + c) * patch * patch + dy * patch + dx]!;
  return out;
}
