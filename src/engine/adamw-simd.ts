// AdamW's element loop as a WebAssembly SIMD kernel, bit-identical to the TypeScript loop in adamw.ts:
// the same float64 operations in the same order, two lanes at a time (f64x2), with float32 loads and
// stores as exact promotions and round-to-nearest demotions, just as a Float32Array read and write.
// V8 runs the TypeScript loop one element at a time with bounds checks; this does two per
// instruction without them. WebAssembly reads only its own memory, so the moments live there for
// good and the weights, gradient and EMA are staged through it 8192 floats at a time (adamw.ts):
// cache-resident stages, so the copies are cheap next to the moments' traffic.

import { F64, I32, op, V128, type WasmFunction, wasmModule } from './wasm-encode.ts';

// Parameter and local indices of both kernels (one signature: the plain update ignores e, d, d1).
const [P, G, M, V, E, NBYTES] = [0, 1, 2, 3, 4, 5];
const [C1, C2, B1, B2, SS, DEC, IBC, EPS, D, D1] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const I = 16;
const SPLAT = (scalar: number) => scalar - C1 + 17; // 17..26: each f64 parameter splatted to both lanes
const [G4, M4, V4, P4, E4] = [27, 28, 29, 30, 31];
const GX = 32;
const [ML, MH, VL, VH, PL, PH, EL, EH] = [33, 34, 35, 36, 37, 38, 39, 40];

const LOW_HALF_TO_HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const JOIN_LOWS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

const load = (ptr: number, into: number) => [...op.get(ptr), ...op.get(I), ...op.i32Add, ...op.v128Load, ...op.set(into)];
/** Floats `half`·2 and `half`·2+1 of a loaded f32x4, as f64x2. */
const promote = (x4: number, half: number) => [...op.get(x4), ...(half ? [...op.get(x4), ...op.shuffle(LOW_HALF_TO_HIGH)] : []), ...op.promoteLow];
/** Rounds two f64x2 to floats and stores the four at ptr + i. */
const store = (ptr: number, low: number, high: number) => [
  ...op.get(ptr),
  ...op.get(I),
  ...op.i32Add,
  ...op.get(low),
  ...op.demote,
  ...op.get(high),
  ...op.demote,
  ...op.shuffle(JOIN_LOWS),
  ...op.v128Store,
];
const s = (scalar: number) => op.get(SPLAT(scalar));

/** One half of four elements: mi, vi, the new weight (and with `ema` its rounding and the EMA). */
function half(h: number, ema: boolean): number[] {
  const [m, v, p, e] = h ? [MH, VH, PH, EH] : [ML, VL, PL, EL];
  return [
    ...promote(G4, h),
    ...op.set(GX),
    // mi = beta1 * m + c1 * g
    ...s(B1),
    ...promote(M4, h),
    ...op.f64x2Mul,
    ...s(C1),
    ...op.get(GX),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...op.set(m),
    // vi = beta2 * v + c2 * g * g
    ...s(B2),
    ...promote(V4, h),
    ...op.f64x2Mul,
    ...s(C2),
    ...op.get(GX),
    ...op.f64x2Mul,
    ...op.get(GX),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...op.set(v),
    // p * decay - (stepSize * mi) / (sqrt(vi * invBc2) + eps)
    ...promote(P4, h),
    ...s(DEC),
    ...op.f64x2Mul,
    ...s(SS),
    ...op.get(m),
    ...op.f64x2Mul,
    ...op.get(v),
    ...s(IBC),
    ...op.f64x2Mul,
    ...op.f64x2Sqrt,
    ...s(EPS),
    ...op.f64x2Add,
    ...op.f64x2Div,
    ...op.f64x2Sub,
    ...(ema
      ? [
          // pi = fround(...); e = d * e + (1 - d) * pi
          ...op.demote,
          ...op.promoteLow,
          ...op.set(p),
          ...s(D),
          ...promote(E4, h),
          ...op.f64x2Mul,
          ...s(D1),
          ...op.get(p),
          ...op.f64x2Mul,
          ...op.f64x2Add,
          ...op.set(e),
        ]
      : op.set(p)),
  ];
}

function kernel(name: string, ema: boolean): WasmFunction {
  const splats = [C1, C2, B1, B2, SS, DEC, IBC, EPS, D, D1].flatMap((x) => [...op.get(x), ...op.f64x2Splat, ...op.set(SPLAT(x))]);
  const body = [
    ...splats,
    ...op.block,
    ...op.get(NBYTES),
    ...op.i32Eqz,
    ...op.brIf(0),
    ...op.loop,
    ...load(G, G4),
    ...load(M, M4),
    ...load(V, V4),
    ...load(P, P4),
    ...(ema ? load(E, E4) : []),
    ...half(0, ema),
    ...half(1, ema),
    ...store(M, ML, MH),
    ...store(V, VL, VH),
    ...store(P, PL, PH),
    ...(ema ? store(E, EL, EH) : []),
    ...op.get(I),
    ...op.i32(16),
    ...op.i32Add,
    ...op.set(I),
    ...op.get(I),
    ...op.get(NBYTES),
    ...op.i32LtU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return { name, params: [...Array(6).fill(I32), ...Array(10).fill(F64)], locals: [I32, ...Array(24).fill(V128)], body };
}

/**
 * sumOfSquares(ptr, nbytes, acc): adds x² of the floats at ptr (nbytes a multiple of 32) into eight
 * float64 accumulators at acc, float j of the run into accumulator j mod 8 (four f64x2 registers).
 * One sequential float64 sum was latency-bound (a dependent add per float: a third of AdamW's time);
 * eight independent chains are not. The order is fixed, so the TypeScript loop in adamw.ts adds in
 * the same lanes and both give the same sum, hence the same clip factor, bit for bit.
 */
function sumOfSquares(): WasmFunction {
  const [ptr, nbytes, acc, i, x4, y] = [0, 1, 2, 3, 4, 5];
  const A = [6, 7, 8, 9];
  const accAt = (k: number) => [...op.get(acc), ...op.i32(16 * k), ...op.i32Add];
  const loadAt = (offset: number) => [...op.get(ptr), ...op.get(i), ...op.i32Add, ...op.i32(offset), ...op.i32Add, ...op.v128Load, ...op.set(x4)];
  const square = (a: number, half: number) => [...promote(x4, half), ...op.tee(y), ...op.get(y), ...op.f64x2Mul, ...op.get(a), ...op.f64x2Add, ...op.set(a)];
  const body = [
    ...A.flatMap((a, k) => [...accAt(k), ...op.v128Load, ...op.set(a)]),
    ...op.block,
    ...op.get(nbytes),
    ...op.i32Eqz,
    ...op.brIf(0),
    ...op.loop,
    ...loadAt(0),
    ...square(A[0]!, 0),
    ...square(A[1]!, 1),
    ...loadAt(16),
    ...square(A[2]!, 0),
    ...square(A[3]!, 1),
    ...op.get(i),
    ...op.i32(32),
    ...op.i32Add,
    ...op.tee(i),
    ...op.get(nbytes),
    ...op.i32LtU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
    ...A.flatMap((a, k) => [...accAt(k), ...op.get(a), ...op.v128Store]),
  ];
  return { name: 'sumOfSquares', params: [I32, I32, I32], locals: [I32, V128, V128, ...A.map(() => V128)], body };
}

export type KernelFn = (
  p: number,
  g: number,
  m: number,
  v: number,
  e: number,
  nbytes: number,
  c1: number,
  c2: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  decay: number,
  invBc2: number,
  eps: number,
  d: number,
  d1: number,
) => void;

export interface AdamWKernels {
  update: KernelFn;
  updateWithEma: KernelFn;
  /** Adds the squares of nbytes (a multiple of 32) of floats at ptr into the eight float64 lanes at acc. */
  sumOfSquares: (ptr: number, nbytes: number, acc: number) => void;
}

// The slice of the WebAssembly JS API used here (this project's TypeScript libs do not declare it).
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** A fixed-size memory of `pages` × 64 KiB, or undefined where it cannot be had (over 4 GiB, out of memory, no WebAssembly). */
export function wasmMemory(pages: number): WasmMemory | undefined {
  try {
    return wasm ? new wasm.Memory({ initial: pages, maximum: pages }) : undefined;
  } catch {
    return undefined;
  }
}

let compiled: object | null | undefined;

/** The kernels over `memory`, or undefined where this runtime lacks WebAssembly SIMD. */
export function adamwKernels(memory: WasmMemory): AdamWKernels | undefined {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(wasmModule([kernel('update', false), kernel('updateWithEma', true), sumOfSquares()])) : null;
    } catch {
      compiled = null;
    }
  }
  if (!wasm || !compiled) return undefined;
  const { exports } = new wasm.Instance(compiled, { env: { memory } });
  return {
    update: exports.update as KernelFn,
    updateWithEma: exports.updateWithEma as KernelFn,
    sumOfSquares: exports.sumOfSquares as AdamWKernels['sumOfSquares'],
  };
}
