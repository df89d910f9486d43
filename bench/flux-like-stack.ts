// A FLUX-like stack of single-stream blocks built on the engine alone (no model code): adaLN
// modulation from a conditioning vector, fused qkv+MLP projection, QK RMSNorm, joint softmax
// attention and a fused output projection. Used by the engine benchmark and the engine's toy
// training test.

import type { Graph, Value } from '../src/engine/graph.ts';
import * as F from '../src/engine/ops.ts';
import { Rng } from '../src/engine/rng.ts';

export interface StackConfig {
  hidden: number;
  heads: number;
  mlpRatio: number;
  depth: number;
  batch: number;
  tokens: number;
}

export interface Stack {
  x: Value;
  vec: Value;
  out: Value;
  params: Value[];
}

export function buildStack(g: Graph, c: StackConfig): Stack {
  const { hidden: H, heads, batch: B, tokens: L } = c;
  const M = H * c.mlpRatio;
  const D = H / heads;
  const params: Value[] = [];
  const p = (name: string, shape: number[]) => {
    const v = g.input(name, shape);
    params.push(v);
    return v;
  };
  const x0 = g.input('x', [B, L, H]);
  const vec = g.input('vec', [B, H]);
  let x = x0;
  for (let i = 0; i < c.depth; i++) {
    x = g.scope(`blocks.${i}`, () => {
      const mod = F.linear(F.silu(vec), p(`blocks.${i}.modulation.lin.weight`, [3 * H, H]), p(`blocks.${i}.modulation.lin.bias`, [3 * H]));
      const [shift, scale, gate] = F.split(F.unsqueeze(mod, 1), [H, H, H], 2) as [Value, Value, Value];
      const a = F.add(F.mul(F.layerNorm(x, 1e-6), F.add(scale, 1)), shift);
      const h = F.linear(a, p(`blocks.${i}.linear1.weight`, [3 * H + M, H]), p(`blocks.${i}.linear1.bias`, [3 * H + M]));
      const [qkv, mlp] = F.split(h, [3 * H, M], 2) as [Value, Value];
      const heads5 = F.transpose(F.reshape(qkv, [B, L, 3, heads, D]), [2, 0, 3, 1, 4]);
      const [q, k, v] = F.split(heads5, [1, 1, 1], 0).map((t) => F.squeeze(t, 0)) as [Value, Value, Value];
      const qn = F.rmsNorm(q, p(`blocks.${i}.norm.query_norm.scale`, [D]));
      const kn = F.rmsNorm(k, p(`blocks.${i}.norm.key_norm.scale`, [D]));
      const scores = F.matmul(F.mul(qn, 1 / Math.sqrt(D)), F.transpose(kn, [0, 1, 3, 2]));
      const attn = F.reshape(F.transpose(F.matmul(F.softmax(scores, -1), v), [0, 2, 1, 3]), [B, L, H]);
      const out = F.linear(F.concat([attn, F.gelu(mlp, 'tanh')], 2), p(`blocks.${i}.linear2.weight`, [H, H + M]), p(`blocks.${i}.linear2.bias`, [H]));
      return F.add(x, F.mul(gate, out));
    });
  }
  return { x: x0, vec, out: x, params };
}

/** Kaiming-ish initial weights (norm scales at one, biases at zero), reproducible from a seed. */
export function initParams(params: Value[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const v of params) {
    const data = new Float32Array(v.size);
    if (v.name.endsWith('.scale')) data.fill(1);
    else if (v.name.endsWith('.weight')) rng.fillNormal(data, 1 / Math.sqrt(v.shape[1]!));
    out.set(v.name, data);
  }
  return out;
}

/** Matmul FLOPs of one forward pass (2·M·N·K per product), the figure MFU is quoted against. */
export function forwardFlops(c: StackConfig): number {
  const { hidden: H, batch: B, tokens: L, depth } = c;
  const M = H * c.mlpRatio;
  const perBlock = 2 * B * L * H * (3 * H + M) + 2 * B * L * (H + M) * H + 2 * 2 * B * L * L * H + 2 * B * H * 3 * H;
  return depth * perBlock;
}
