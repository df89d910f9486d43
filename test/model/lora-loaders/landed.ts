// What a loader did with a LoRA file, in the base checkpoint's own terms: each patch as it lands
// on a weight (or bias) of the BFL state dict, and the file's keys it left unapplied. Every loader
// re-implementation (comfyui.ts, diffusers.ts, kohya.ts) reports this, so one check serves all.

import type { FileTensor } from './checkpoint.ts';

export interface LandedLora {
  kind: 'lora';
  /** BFL state-dict key of the weight it changes, e.g. "double_blocks.0.img_attn.qkv.weight". */
  target: string;
  /** The rows of that weight it adds to. */
  rows: [number, number];
  /** Its rows are in the other half-order (diffusers' norm_out is (scale, shift), BFL's (shift, scale)). */
  swapHalves: boolean;
  /** ΔW = scale · up · down. */
  up: FileTensor;
  down: FileTensor;
  scale: number;
}

export interface LandedBias {
  kind: 'bias';
  /** BFL state-dict key of the bias it adds to. */
  target: string;
  rows: [number, number];
  swapHalves: boolean;
  data: Float32Array;
}

export type Landed = LandedLora | LandedBias;

export interface LoadResult {
  landed: Landed[];
  /** Keys of the file the loader read but did not apply to the model (it warns, or ignores them). */
  dropped: string[];
}

/** y += (swapped) rows of v: how a patch of `rows` adds to an output of the whole weight. */
export function addRows(y: Float64Array, rows: [number, number], swapHalves: boolean, v: ArrayLike<number>): void {
  const n = rows[1] - rows[0];
  const half = n / 2;
  for (let r = 0; r < n; r++) {
    const src = swapHalves ? (r < half ? r + half : r - half) : r;
    y[rows[0] + r]! += v[src]!;
  }
}

/** up · (down · x), the LoRA branch's output for one input vector. */
export function branch(
  up: { shape: number[]; data: ArrayLike<number> },
  down: { shape: number[]; data: ArrayLike<number> },
  x: ArrayLike<number>,
): Float64Array {
  const [r, nIn] = down.shape as [number, number];
  const nOut = up.shape[0]!;
  const h = new Float64Array(r);
  for (let k = 0; k < r; k++) {
    let s = 0;
    for (let i = 0; i < nIn; i++) s += down.data[k * nIn + i]! * x[i]!;
    h[k] = s;
  }
  const y = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += up.data[o * r + k]! * h[k]!;
    y[o] = s;
  }
  return y;
}

/** A fixed pseudo-random probe vector. */
export function probe(n: number, seed: number): Float64Array {
  const x = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  return x;
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((a, b) => a + b * b, 0));

/**
 * How `result` differs from landing every module of a LoRA whole: for a probe x, the loader's
 * ΔW·x on each weight (its patches summed, rows and half-order as they land) must equal the
 * LoRA's own up·(down·x), and its bias patch the LoRA's bias; nothing may land elsewhere.
 * `modules`: BFL path → up [out, r], down [r, in], bias — the LoRA as we wrote it, before any dtype.
 */
export function landingErrors(
  modules: ReadonlyMap<string, { rank: number; inFeatures: number; outFeatures: number; up: Float32Array; down: Float32Array; bias?: Float32Array }>,
  result: LoadResult,
  tol: number,
): string[] {
  const errors: string[] = [];
  const byTarget = new Map<string, Landed[]>();
  for (const l of result.landed) byTarget.set(l.target, [...(byTarget.get(l.target) ?? []), l]);
  let seed = 1;
  for (const [path, m] of modules) {
    const x = probe(m.inFeatures, seed++);
    const want = branch({ shape: [m.outFeatures, m.rank], data: m.up }, { shape: [m.rank, m.inFeatures], data: m.down }, x);
    const patches = byTarget.get(`${path}.weight`) ?? [];
    byTarget.delete(`${path}.weight`);
    if (!patches.length) {
      errors.push(`${path}: did not land`);
      continue;
    }
    const got = new Float64Array(m.outFeatures);
    for (const p of patches) {
      if (p.kind !== 'lora') continue;
      const v = branch(p.up, p.down, x).map((y) => y * p.scale);
      addRows(got, p.rows, p.swapHalves, v);
    }
    const err = norm(got.map((g, i) => g - want[i]!)) / Math.max(norm(want), 1e-30);
    if (!(err <= tol)) errors.push(`${path}: ΔW·x off by ${err.toExponential(2)}`);
    const biasPatches = byTarget.get(`${path}.bias`) ?? [];
    byTarget.delete(`${path}.bias`);
    if (m.bias) {
      const b = new Float64Array(m.outFeatures);
      for (const p of biasPatches) if (p.kind === 'bias') addRows(b, p.rows, p.swapHalves, p.data);
      const bErr = norm(b.map((g, i) => g - m.bias![i]!)) / Math.max(norm(m.bias), 1e-30);
      if (!(bErr <= tol)) errors.push(`${path}: bias off by ${bErr.toExponential(2)}${biasPatches.length ? '' : ' (did not land)'}`);
    } else if (biasPatches.length) errors.push(`${path}: a bias landed that the LoRA does not have`);
  }
  for (const target of byTarget.keys()) errors.push(`${target}: a patch landed where the LoRA has no module`);
  return errors;
}
