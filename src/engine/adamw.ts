// AdamW (Loshchilov & Hutter): Adam moments with bias correction and weight decay decoupled from the
// gradient, over Float32Arrays. The element loop runs as a WebAssembly SIMD kernel (adamw-simd.ts,
// bit-identical to the TypeScript loops below, which remain the fallback and the reference);
// `npm run bench:adamw` compares the two and the same update as an ONNX graph (slower than both: a
// pass over memory per elementwise node, and p, m, v copied in and out).

import { type AdamWKernels, adamwKernels, wasmMemory } from './adamw-simd.ts';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global L2 norm of all gradients to this value before the update. */
  maxGradNorm?: number;
}

export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface WeightEma {
  decay: number;
  /** One tensor per parameter, same names and sizes, updated in place. */
  weights: ReadonlyMap<string, Float32Array>;
}

export class AdamW {
  private t = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  readonly opts: Required<Omit<AdamWOptions, 'maxGradNorm'>> & { maxGradNorm?: number };
  private readonly simd?: SimdState;

  constructor(
    /** Parameters updated in place, by name. */
    readonly params: ReadonlyMap<string, Float32Array>,
    opts: AdamWOptions & {
      /** false: the TypeScript loops even where WebAssembly SIMD is available (bench:adamw, tests). */
      simd?: boolean;
    },
  ) {
    const { simd = true, ...rest } = opts;
    this.opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...rest };
    this.simd = simd ? simdState(params, this.m, this.v) : undefined;
    if (this.simd) return;
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }

  /**
   * Where the gradients may be written (a trainer has ONNX Runtime write them there, `Session.run`'s
   * `into`): arrays in the kernel's own memory, read in place instead of staged twice per step.
   * Undefined for the TypeScript loops; any other arrays work too.
   */
  get gradientBuffers(): ReadonlyMap<string, Float32Array> | undefined {
    return this.simd?.gradients;
  }

  /** Whether the update runs as the WebAssembly SIMD kernel. */
  get usesSimd(): boolean {
    return this.simd !== undefined;
  }

  get stepCount(): number {
    return this.t;
  }

  /**
   * One update. Returns the global gradient norm before clipping. With `ema`, each parameter's
   * exponential moving average e ← d·e + (1 − d)·p is updated in the same pass over p (pretraining
   * keeps one for every weight; a separate pass costs a third as much again as the update).
   */
  step(grads: Readonly<Record<string, ArrayLike<number>>>, lr = this.opts.lr, ema?: WeightEma): number {
    const { beta1, beta2, eps, weightDecay, maxGradNorm } = this.opts;
    let sq = 0;
    for (const name of this.params.keys()) {
      const g = grads[name];
      if (!g) throw new Error(`AdamW: no gradient for '${name}'`);
      sq += this.simd ? simdSumOfSquares(this.simd, g) : sumOfSquares(g);
    }
    if (ema)
      for (const name of this.params.keys())
        if (ema.weights.get(name)?.length !== this.params.get(name)!.length) throw new Error(`AdamW: no EMA tensor for '${name}' of its size`);
    const norm = Math.sqrt(sq);
    const clip = maxGradNorm && norm > maxGradNorm ? maxGradNorm / (norm + 1e-12) : 1;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    const stepSize = lr / bc1;
    const decay = 1 - lr * weightDecay;
    for (const [name, p] of this.params) {
      const e = ema?.weights.get(name);
      if (this.simd)
        simdUpdate(this.simd, p, grads[name]!, this.m.get(name)!, this.v.get(name)!, clip, beta1, beta2, stepSize, decay, 1 / bc2, eps, e, ema?.decay ?? 0);
      else if (e) updateWithEma(p, grads[name]!, this.m.get(name)!, this.v.get(name)!, clip, beta1, beta2, stepSize, decay, 1 / bc2, eps, e, ema!.decay);
      else update(p, grads[name]!, this.m.get(name)!, this.v.get(name)!, clip, beta1, beta2, stepSize, decay, 1 / bc2, eps);
    }
    return norm;
  }

  state(): AdamWState {
    return { step: this.t, m: Object.fromEntries(this.m), v: Object.fromEntries(this.v) };
  }

  load(state: AdamWState): void {
    this.t = state.step;
    for (const name of this.params.keys()) {
      const m = state.m[name];
      const v = state.v[name];
      if (!m || !v) throw new Error(`AdamW: checkpoint lacks moments for '${name}'`);
      this.m.get(name)!.set(m);
      this.v.get(name)!.set(v);
    }
  }
}

/** The kernels and their memory: each parameter's moments, and staging for a slice of one tensor's weights, gradient and EMA. */
interface SimdState {
  kernels: AdamWKernels;
  stageP: Float32Array;
  stageG: Float32Array;
  stageE: Float32Array;
  /** The sum of squares' eight float64 lanes (16-byte aligned). */
  lanes: Float64Array;
  /** Per parameter, a gradient slot in the same memory: gradients written there are read in place, not staged. */
  gradients: Map<string, Float32Array>;
  buffer: ArrayBuffer;
}

/** Lays the moments out in a WebAssembly memory (16-byte aligned) and views them into `m` and `v`; undefined when SIMD or the memory is unavailable. */
function simdState(params: ReadonlyMap<string, Float32Array>, m: Map<string, Float32Array>, v: Map<string, Float32Array>): SimdState | undefined {
  const padded = (n: number) => Math.ceil(n / 4) * 4;
  let floats = 3 * STAGE + 16;
  for (const p of params.values()) floats += 3 * padded(p.length);
  const pages = Math.ceil((floats * 4) / 65536);
  const memory = wasmMemory(pages); // none over WebAssembly's 4 GiB: then the TypeScript loops
  const kernels = memory && adamwKernels(memory);
  if (!memory || !kernels) return undefined;
  let offset = 0;
  const take = (n: number) => {
    const view = new Float32Array(memory.buffer, offset * 4, n);
    offset += padded(n);
    return view;
  };
  const lanesView = take(16);
  const lanes = new Float64Array(memory.buffer, lanesView.byteOffset, 8);
  const state = {
    kernels,
    stageP: take(STAGE),
    stageG: take(STAGE),
    stageE: take(STAGE),
    lanes,
    gradients: new Map<string, Float32Array>(),
    buffer: memory.buffer,
  };
  for (const [name, p] of params) {
    m.set(name, take(p.length));
    v.set(name, take(p.length));
    state.gradients.set(name, take(p.length));
  }
  return state;
}

/** Floats staged at a time: three stages of 32 KiB stay in L1/L2, so staging costs little next to the moments' traffic. */
const STAGE = 8192;

/** `update` / `updateWithEma` through the kernel, a stage at a time; the TypeScript loop for a tail of under four. */
function simdUpdate(
  s: SimdState,
  p: Float32Array,
  g: ArrayLike<number>,
  m: Float32Array,
  v: Float32Array,
  clip: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  decay: number,
  invBc2: number,
  eps: number,
  e: Float32Array | undefined,
  d: number,
): void {
  const kernel = e ? s.kernels.updateWithEma : s.kernels.update;
  const c1 = (1 - beta1) * clip;
  const c2 = (1 - beta2) * clip * clip;
  const gArray = ArrayBuffer.isView(g) ? (g as Float32Array) : Float32Array.from(g);
  const resident = inMemory(s, gArray);
  for (let start = 0; start < p.length; start += STAGE) {
    const end = Math.min(start + STAGE, p.length);
    const n = end - start;
    const n4 = n - (n % 4);
    const [sp, se] = [s.stageP.subarray(0, n), s.stageE.subarray(0, n)];
    const sg = resident ? gArray.subarray(start, end) : s.stageG.subarray(0, n);
    const [mc, vc] = [m.subarray(start, end), v.subarray(start, end)];
    sp.set(p.subarray(start, end));
    if (!resident) sg.set(gArray.subarray(start, end));
    if (e) se.set(e.subarray(start, end));
    kernel(sp.byteOffset, sg.byteOffset, mc.byteOffset, vc.byteOffset, se.byteOffset, n4 * 4, c1, c2, beta1, beta2, stepSize, decay, invBc2, eps, d, 1 - d);
    if (n4 < n) {
      const tail = [sp.subarray(n4), sg.subarray(n4), mc.subarray(n4), vc.subarray(n4)] as const;
      if (e) updateWithEma(...tail, clip, beta1, beta2, stepSize, decay, invBc2, eps, se.subarray(n4), d);
      else update(...tail, clip, beta1, beta2, stepSize, decay, invBc2, eps);
    }
    p.set(sp, start);
    if (e) e.set(se, start);
  }
}

/** `sumOfSquares` through the kernel, a stage at a time (stages are whole lanes: the same lanes, so the same sum). */
function simdSumOfSquares(s: SimdState, g: ArrayLike<number>): number {
  const gArray = ArrayBuffer.isView(g) ? (g as Float32Array) : Float32Array.from(g);
  const n8 = gArray.length - (gArray.length % LANES);
  s.lanes.fill(0);
  if (inMemory(s, gArray)) s.kernels.sumOfSquares(gArray.byteOffset, n8 * 4, s.lanes.byteOffset);
  else
    for (let start = 0; start < n8; start += STAGE) {
      const chunk = gArray.subarray(start, Math.min(start + STAGE, n8));
      s.stageG.set(chunk);
      s.kernels.sumOfSquares(s.stageG.byteOffset, chunk.length * 4, s.lanes.byteOffset);
    }
  return joinLanes(s.lanes, gArray, n8);
}

/** A float32 array inside the kernel's memory, 16-byte aligned (a gradient slot): the kernels read it where it is. */
function inMemory(s: SimdState, g: Float32Array): boolean {
  return g.buffer === s.buffer && g.byteOffset % 16 === 0;
}

/** The element loops live in small functions of their own: V8 optimises them better than inline (~15%). */
function update(
  p: Float32Array,
  g: ArrayLike<number>,
  m: Float32Array,
  v: Float32Array,
  clip: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  decay: number,
  invBc2: number,
  eps: number,
): void {
  const c1 = (1 - beta1) * clip;
  const c2 = (1 - beta2) * clip * clip;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = beta1 * m[i]! + c1 * gi;
    const vi = beta2 * v[i]! + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi * invBc2) + eps);
  }
}

/**
 * `update` plus the EMA of the new (float32-rounded) weights: bit-identical to the two passes. A copy
 * of `update`'s loop on purpose: one loop with an `if (e)` per element and the rounding costs the
 * plain update (finetuning's) 25% (bench:adamw, 10.7 M params: 0.081 s → 0.101 s).
 */
function updateWithEma(
  p: Float32Array,
  g: ArrayLike<number>,
  m: Float32Array,
  v: Float32Array,
  clip: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  decay: number,
  invBc2: number,
  eps: number,
  e: Float32Array,
  d: number,
): void {
  const c1 = (1 - beta1) * clip;
  const c2 = (1 - beta2) * clip * clip;
  const d1 = 1 - d;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = beta1 * m[i]! + c1 * gi;
    const vi = beta2 * v[i]! + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const pi = Math.fround(p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi * invBc2) + eps));
    p[i] = pi;
    e[i] = d * e[i]! + d1 * pi;
  }
}

/** Lanes of the sum of squares: float j of a tensor is added into lane j mod 8 (see adamw-simd.ts). */
const LANES = 8;

/** Σ x² in eight lanes, as the kernel adds it, then `joinLanes`. */
function sumOfSquares(g: ArrayLike<number>): number {
  const n8 = g.length - (g.length % LANES);
  const lanes = new Float64Array(LANES);
  for (let i = 0; i < n8; i += LANES)
    for (let r = 0; r < LANES; r++) {
      const x = g[i + r]!;
      lanes[r]! += x * x;
    }
  return joinLanes(lanes, g, n8);
}

/** The lanes added in order, then the tail past the last whole lane group one float at a time. */
function joinLanes(lanes: Float64Array, g: ArrayLike<number>, n8: number): number {
  let sq = lanes[0]!;
  for (let r = 1; r < LANES; r++) sq += lanes[r]!;
  for (let i = n8; i < g.length; i++) {
    const x = g[i]!;
    sq += x * x;
  }
  return sq;
}
