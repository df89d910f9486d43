// Just enough of the WebAssembly binary format to emit one module of SIMD kernels at run time, so no
// compiled blob (and no toolchain) has to be committed: opcodes of the core and SIMD specs, LEB128
// integers, and the sections of a module that imports its memory and exports functions.

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => vec([...new TextEncoder().encode(s)].map((b) => [b]));
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** Instructions, each returning its bytes. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  i32Add: [0x6a],
  i32LtU: [0x49],
  i32Eqz: [0x45],
  /** f32.load (alignment hint 4, offset 0). */
  f32Load: [0x2a, 2, 0],
  f64PromoteF32: [0xbb],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  tee: (i: number) => [0x22, ...uleb(i)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  end: [0x0b],
  /** v128.load / v128.store of 16 bytes (alignment hint 16, offset 0). */
  v128Load: [0xfd, ...uleb(0x00), 4, 0],
  v128Store: [0xfd, ...uleb(0x0b), 4, 0],
  shuffle: (lanes: readonly number[]) => [0xfd, ...uleb(0x0d), ...lanes],
  f64x2Splat: [0xfd, ...uleb(0x14)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Sub: [0xfd, ...uleb(0xf1)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f64x2Div: [0xfd, ...uleb(0xf3)],
  f64x2Sqrt: [0xfd, ...uleb(0xef)],
  /** f32x4.demote_f64x2_zero: two doubles rounded to the low float lanes, the high lanes zero. */
  demote: [0xfd, ...uleb(0x5e)],
  /** f64x2.promote_low_f32x4: the two low float lanes, exactly, as doubles. */
  promoteLow: [0xfd, ...uleb(0x5f)],
};

export interface WasmFunction {
  name: string;
  params: number[];
  results?: number[];
  /** Extra locals after the parameters, one type each. */
  locals: number[];
  body: number[];
}

/** A module importing `env.memory` and exporting each function under its name. */
export function wasmModule(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec((f.results ?? []).map((t) => [t]))]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]];
  const exports = functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]);
  const code = functions.map((f) => {
    const body = [...vec(f.locals.map((t) => [1, t])), ...f.body, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(exports)),
    ...section(10, vec(code)),
  ]);
}
