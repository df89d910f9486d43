// Rectified-flow training batches (flux-architecture.md §9): x_t = (1 − t)·x0 + t·ε, target ε − x0,
// t drawn logit-normal and shifted towards noise for larger images, as BFL's schedule is (μ grows
// with the image token count), so training spends its steps where sampling will.

import type { Rng } from '../../engine/rng.ts';

/** μ of BFL's time shift: linear in the image token count through (256, 0.5) and (4096, 1.15). */
export function shiftMu(imageTokens: number, base = 0.5, max = 1.15): number {
  const m = (max - base) / (4096 - 256);
  return imageTokens * m + (base - 256 * m);
}

/** BFL's time_shift with σ = 1: e^μ / (e^μ + (1/t − 1)). */
export function timeShift(mu: number, t: number): number {
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  return Math.exp(mu) / (Math.exp(mu) + (1 / t - 1));
}

export interface TimestepOptions {
  /** μ at 256 and 4096 image tokens (BFL's 0.5 and 1.15 by default). */
  baseShift?: number;
  maxShift?: number;
  /**
   * Share of t drawn uniformly instead of logit-normal (SD3 mixes them too): logit-normal alone
   * almost never draws t ≈ 1, yet the sampler's first steps all happen there.
   */
  uniform?: number;
}

export function sampleTimestep(rng: Rng, imageTokens: number, o: TimestepOptions = {}): number {
  const u = o.uniform && rng.uniform() < o.uniform ? rng.uniform() : 1 / (1 + Math.exp(-rng.normal()));
  return timeShift(shiftMu(imageTokens, o.baseShift, o.maxShift), u);
}

export interface FlowBatch {
  /** Noisy tokens x_t, [B, L, C]. */
  xt: Float32Array;
  /** Velocity target ε − x0, [B, L, C]. */
  target: Float32Array;
  t: Float32Array;
}

/** Builds one batch from clean token tensors (each [L·C]); `t` may be forced for evaluation. */
export function flowBatch(rng: Rng, x0s: readonly Float32Array[], imageTokens: number, t?: readonly number[] | TimestepOptions): FlowBatch {
  const forced = Array.isArray(t) ? (t as readonly number[]) : undefined;
  const options = forced ? {} : ((t ?? {}) as TimestepOptions);
  const n = x0s[0]!.length;
  const xt = new Float32Array(x0s.length * n);
  const target = new Float32Array(x0s.length * n);
  const ts = new Float32Array(x0s.length);
  x0s.forEach((x0, b) => {
    const tb = forced ? forced[b]! : sampleTimestep(rng, imageTokens, options);
    ts[b] = tb;
    for (let i = 0; i < n; i++) {
      const e = rng.normal();
      xt[b * n + i] = (1 - tb) * x0[i]! + tb * e;
      target[b * n + i] = e - x0[i]!;
    }
  });
  return { xt, target, t: ts };
}

/** Linear warm-up then cosine decay to `floor`·lr. */
export function learningRate(step: number, total: number, lr: number, warmup: number, floor = 0.1): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const p = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
