// Typed op builders over the graph IR. Each registers its ONNX op's static shape inference and
// returns the new value(s). Numbers passed where a tensor is expected become scalar constants of
// the other operand's dtype, so model code can read `add(mul(x, 0.5), 1)`.

import { allocate, type DType, isFloat, ONNX_DTYPE, type TypedArray } from './dtype.ts';
import { type AttrValue, type Graph, type OutputSpec, registerOp, type Value } from './graph.ts';
import { broadcastShapes, normAxis, resolveReshape, sliceWindows } from './shape.ts';

export type Operand = Value | number;

// ---------------------------------------------------------------- constants

function fill(dtype: DType, values: readonly number[]): TypedArray {
  const a = allocate(dtype, values.length);
  if (a instanceof BigInt64Array)
    values.forEach((x, i) => {
      a[i] = BigInt(Math.trunc(x));
    });
  else
    values.forEach((x, i) => {
      (a as Float32Array)[i] = x;
    });
  return a;
}

export function scalar(g: Graph, x: number, dtype: DType = 'float32'): Value {
  return g.constant(fill(dtype, [x]), [], dtype);
}

export function ints(g: Graph, xs: readonly number[]): Value {
  return g.constant(fill('int64', xs), [xs.length], 'int64');
}

export function tensor(g: Graph, data: TypedArray, shape: readonly number[], dtype: DType = 'float32'): Value {
  return g.constant(data, shape, dtype);
}

export function zeros(g: Graph, shape: readonly number[], dtype: DType = 'float32'): Value {
  return g.constant(
    allocate(
      dtype,
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
    dtype,
  );
}

/** Reads an int64 constant input back as numbers (for static shape inference). */
function constInts(v: Value | undefined, what: string): number[] {
  const data = v ? v.graph.constants.get(v) : undefined;
  if (!data || !(data instanceof BigInt64Array)) throw new Error(`${what} must be an int64 constant`);
  return Array.from(data, Number);
}

function lift(x: Operand, like: Value): Value {
  return typeof x === 'number' ? scalar(like.graph, x, like.dtype) : x;
}

function graphOf(...xs: Operand[]): Graph {
  for (const x of xs) if (typeof x !== 'number') return x.graph;
  throw new Error('an op needs at least one tensor operand');
}

function one(g: Graph, op: string, inputs: Value[], attrs: Record<string, AttrValue> = {}): Value {
  return g.apply(op, inputs, attrs)[0]!;
}

// ---------------------------------------------------------------- inference rules

const sameAsFirst = (inputs: readonly Value[]): OutputSpec[] => [{ shape: inputs[0]!.shape, dtype: inputs[0]!.dtype }];

function floatOnly(inputs: readonly Value[]): void {
  if (!isFloat(inputs[0]!.dtype)) throw new Error(`expects a float tensor, got ${inputs[0]!.dtype}`);
}

function binaryInfer(resultDtype?: DType) {
  return (inputs: readonly Value[]): OutputSpec[] => {
    const [a, b] = inputs as [Value, Value];
    if (a.dtype !== b.dtype) throw new Error(`dtype mismatch ${a.dtype} vs ${b.dtype}`);
    return [{ shape: broadcastShapes(a.shape, b.shape), dtype: resultDtype ?? a.dtype }];
  };
}

for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']) registerOp(op, binaryInfer());
for (const op of ['Equal', 'Less', 'Greater']) registerOp(op, binaryInfer('bool'));
for (const op of ['Neg', 'Abs', 'Identity', 'Relu', 'Sign']) registerOp(op, sameAsFirst);
for (const op of ['Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Sin', 'Cos', 'Erf', 'Reciprocal', 'Gelu']) {
  registerOp(op, (inputs) => {
    floatOnly(inputs);
    return sameAsFirst(inputs);
  });
}

registerOp('Where', (inputs) => {
  const [c, a, b] = inputs as [Value, Value, Value];
  if (c.dtype !== 'bool') throw new Error('Where condition must be bool');
  if (a.dtype !== b.dtype) throw new Error(`dtype mismatch ${a.dtype} vs ${b.dtype}`);
  return [{ shape: broadcastShapes(c.shape, a.shape, b.shape), dtype: a.dtype }];
});

const DTYPE_OF_CODE = new Map(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));
registerOp('Cast', (inputs, attrs) => {
  const dtype = DTYPE_OF_CODE.get(attrs.to as number);
  if (!dtype) throw new Error(`unsupported cast target ${attrs.to}`);
  return [{ shape: inputs[0]!.shape, dtype }];
});

registerOp('MatMul', (inputs) => {
  const [a, b] = inputs as [Value, Value];
  if (a.dtype !== b.dtype) throw new Error(`dtype mismatch ${a.dtype} vs ${b.dtype}`);
  if (a.rank < 2 || b.rank < 2) throw new Error('MatMul here needs rank >= 2 operands');
  const k1 = a.shape[a.rank - 1]!;
  const k2 = b.shape[b.rank - 2]!;
  if (k1 !== k2) throw new Error(`inner dimensions differ: ${k1} vs ${k2}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [{ shape: [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!], dtype: a.dtype }];
});

registerOp('Gemm', (inputs, attrs) => {
  const [a, b, c] = inputs as [Value, Value, Value | undefined];
  if (a.rank !== 2 || b.rank !== 2) throw new Error('Gemm needs 2-D operands');
  if (a.dtype !== b.dtype) throw new Error(`dtype mismatch ${a.dtype} vs ${b.dtype}`);
  const [m, k1] = attrs.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = attrs.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k1 !== k2) throw new Error(`inner dimensions differ: ${k1} vs ${k2}`);
  if (c) broadcastShapes([m, n], c.shape);
  return [{ shape: [m, n], dtype: a.dtype }];
});

function reduceInfer(inputs: readonly Value[], attrs: Readonly<Record<string, AttrValue>>): OutputSpec[] {
  const x = inputs[0]!;
  const axes = inputs[1] ? constInts(inputs[1], 'axes').map((a) => normAxis(a, x.rank)) : x.shape.map((_, i) => i);
  const keep = attrs.keepdims !== 0;
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ shape, dtype: x.dtype }];
}
for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax']) registerOp(op, reduceInfer);

registerOp('Softmax', (inputs, attrs) => {
  floatOnly(inputs);
  normAxis(attrs.axis as number, inputs[0]!.rank);
  return sameAsFirst(inputs);
});

registerOp('LayerNormalization', (inputs, attrs) => {
  floatOnly(inputs);
  const x = inputs[0]!;
  const axis = normAxis((attrs.axis as number) ?? -1, x.rank);
  const normShape = x.shape.slice(axis);
  for (const p of inputs.slice(1)) {
    if (p.shape.length !== normShape.length || p.shape.some((d, i) => d !== normShape[i])) {
      throw new Error(`scale/bias shape [${p.shape.join(',')}] must be [${normShape.join(',')}]`);
    }
  }
  const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
  return [
    { shape: x.shape, dtype: x.dtype },
    { shape: statShape, dtype: x.dtype },
    { shape: statShape, dtype: x.dtype },
  ];
});

// ONNX Runtime's own kernels for two patterns its optimizer does not find in our emission (the
// CPU provider has both; float32 only, so other dtypes keep the formulas). SimplifiedLayerNormalization
// is registered in the ONNX domain by ORT itself; RotaryEmbedding is a com.microsoft contrib op.
registerOp('SimplifiedLayerNormalization', (inputs, attrs) => {
  const x = inputs[0]!;
  if (x.dtype !== 'float32') throw new Error('SimplifiedLayerNormalization runs float32 only here');
  if (normAxis(attrs.axis as number, x.rank) !== x.rank - 1) throw new Error('SimplifiedLayerNormalization: last axis only');
  const d = x.shape[x.rank - 1]!;
  if (inputs[1]!.rank !== 1 || inputs[1]!.shape[0] !== d) throw new Error(`scale must be [${d}]`);
  return [
    { shape: x.shape, dtype: x.dtype },
    { shape: [...x.shape.slice(0, -1), 1], dtype: x.dtype },
  ];
});

registerOp(
  'RotaryEmbedding',
  (inputs, attrs) => {
    const [x, pos, cos, sin] = inputs as [Value, Value, Value, Value];
    if (x.dtype !== 'float32' || cos.dtype !== 'float32' || sin.dtype !== 'float32') throw new Error('RotaryEmbedding runs float32 only here');
    if (x.rank !== 3 || pos.dtype !== 'int64' || pos.rank !== 2 || pos.shape[0] !== x.shape[0] || pos.shape[1] !== x.shape[1]) {
      throw new Error('RotaryEmbedding: x [B, S, heads·D] with positions [B, S] (int64)');
    }
    const heads = attrs.num_heads as number;
    const half = x.shape[2]! / heads / 2;
    if (!Number.isInteger(half) || cos.rank !== 2 || cos.shape[1] !== half || sin.shape.join() !== cos.shape.join()) {
      throw new Error(`RotaryEmbedding: tables must be [positions, ${half}]`);
    }
    return sameAsFirst(inputs);
  },
  'com.microsoft',
);

registerOp('Reshape', (inputs) => [{ shape: resolveReshape(inputs[0]!.shape, constInts(inputs[1], 'shape')), dtype: inputs[0]!.dtype }]);

registerOp('Transpose', (inputs, attrs) => {
  const x = inputs[0]!;
  const perm = attrs.perm as number[];
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`perm [${perm.join(',')}] is not a permutation of rank ${x.rank}`);
  }
  return [{ shape: perm.map((p) => x.shape[p]!), dtype: x.dtype }];
});

registerOp('Concat', (inputs, attrs) => {
  const first = inputs[0]!;
  const axis = normAxis(attrs.axis as number, first.rank);
  let total = 0;
  for (const v of inputs) {
    if (v.rank !== first.rank || v.dtype !== first.dtype) throw new Error('concat operands differ in rank or dtype');
    v.shape.forEach((d, i) => {
      if (i !== axis && d !== first.shape[i]) throw new Error(`concat operands differ on axis ${i}`);
    });
    total += v.shape[axis]!;
  }
  const shape = [...first.shape];
  shape[axis] = total;
  return [{ shape, dtype: first.dtype }];
});

registerOp('Slice', (inputs) => {
  const x = inputs[0]!;
  const steps = inputs[4] ? constInts(inputs[4], 'steps') : undefined;
  const [starts, ends, axes] = [constInts(inputs[1], 'starts'), constInts(inputs[2], 'ends'), constInts(inputs[3], 'axes')];
  const shape = [...x.shape];
  for (const { axis, length } of sliceWindows(x.shape, starts, ends, axes, steps)) shape[axis] = length;
  return [{ shape, dtype: x.dtype }];
});

registerOp('Split', (inputs, attrs) => {
  const x = inputs[0]!;
  const axis = normAxis(attrs.axis as number, x.rank);
  const sizes = constInts(inputs[1], 'split');
  if (sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) {
    throw new Error(`split sizes [${sizes.join(',')}] do not add up to ${x.shape[axis]}`);
  }
  return sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    return { shape, dtype: x.dtype };
  });
});

registerOp('Gather', (inputs, attrs) => {
  const [x, idx] = inputs as [Value, Value];
  if (idx.dtype !== 'int64' && idx.dtype !== 'int32') throw new Error('Gather indices must be int64 or int32');
  const axis = normAxis((attrs.axis as number) ?? 0, x.rank);
  return [{ shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype }];
});

registerOp('ScatterND', (inputs) => sameAsFirst(inputs));

registerOp('Expand', (inputs) => [{ shape: broadcastShapes(inputs[0]!.shape, constInts(inputs[1], 'shape')), dtype: inputs[0]!.dtype }]);

registerOp('Unsqueeze', (inputs) => {
  const x = inputs[0]!;
  const rank = x.rank + constInts(inputs[1], 'axes').length;
  const axes = constInts(inputs[1], 'axes').map((a) => normAxis(a, rank));
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[j++]!);
  return [{ shape, dtype: x.dtype }];
});

registerOp('Squeeze', (inputs) => {
  const x = inputs[0]!;
  const axes = constInts(inputs[1], 'axes').map((a) => normAxis(a, x.rank));
  for (const a of axes) if (x.shape[a] !== 1) throw new Error(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
  return [{ shape: x.shape.filter((_, i) => !axes.includes(i)), dtype: x.dtype }];
});

registerOp('Pad', (inputs) => {
  const x = inputs[0]!;
  const pads = constInts(inputs[1], 'pads');
  if (pads.length !== 2 * x.rank) throw new Error('pads must have 2*rank entries');
  return [{ shape: x.shape.map((d, i) => d + pads[i]! + pads[i + x.rank]!), dtype: x.dtype }];
});

// ---------------------------------------------------------------- builders: arithmetic

function binary(op: string, a: Operand, b: Operand): Value {
  const g = graphOf(a, b);
  const av = typeof a === 'number' ? lift(a, b as Value) : a;
  const bv = lift(b, av);
  return one(g, op, [av, bv]);
}

export const add = (a: Operand, b: Operand) => binary('Add', a, b);
export const sub = (a: Operand, b: Operand) => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand) => binary('Mul', a, b);
export const div = (a: Operand, b: Operand) => binary('Div', a, b);
export const pow = (a: Value, b: Operand) => binary('Pow', a, b);
export const maximum = (a: Operand, b: Operand) => binary('Max', a, b);
export const minimum = (a: Operand, b: Operand) => binary('Min', a, b);
export const equal = (a: Operand, b: Operand) => binary('Equal', a, b);
export const less = (a: Operand, b: Operand) => binary('Less', a, b);
export const greater = (a: Operand, b: Operand) => binary('Greater', a, b);

const unary = (op: string) => (x: Value) => one(x.graph, op, [x]);
export const neg = unary('Neg');
export const abs = unary('Abs');
export const sign = unary('Sign');
export const identity = unary('Identity');
export const relu = unary('Relu');
export const exp = unary('Exp');
export const log = unary('Log');
export const sqrt = unary('Sqrt');
export const tanh = unary('Tanh');
export const sigmoid = unary('Sigmoid');
export const sin = unary('Sin');
export const cos = unary('Cos');
/** ORT has Erf only for float32: other float types round-trip through it. */
export function erf(x: Value): Value {
  if (x.dtype === 'float32') return one(x.graph, 'Erf', [x]);
  return cast(one(x.graph, 'Erf', [cast(x, 'float32')]), x.dtype);
}
export const reciprocal = unary('Reciprocal');

export function square(x: Value): Value {
  return mul(x, x);
}

/**
 * SiLU. ORT fuses x·sigmoid(x) into QuickGelu, which has only a float32 kernel, so other float
 * types get x / (1 + e^−x), a pattern it leaves alone.
 */
export function silu(x: Value): Value {
  if (x.dtype === 'float32') return mul(x, sigmoid(x));
  return div(x, add(exp(neg(x)), 1));
}

/** GELU; 'tanh' is FLUX's approximation. ORT's Gelu kernel is float32-only, so float64 graphs get the formula. */
export function gelu(x: Value, approximate: 'none' | 'tanh' = 'tanh'): Value {
  if (x.dtype === 'float32') return one(x.graph, 'Gelu', [x], { approximate });
  if (approximate === 'tanh') {
    const inner = mul(add(x, mul(pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

export function where(cond: Value, a: Operand, b: Operand): Value {
  const like = typeof a === 'number' ? (b as Value) : a;
  return one(cond.graph, 'Where', [cond, lift(a, like), lift(b, like)]);
}

export function cast(x: Value, dtype: DType): Value {
  if (x.dtype === dtype) return x;
  return one(x.graph, 'Cast', [x], { to: ONNX_DTYPE[dtype] });
}

// ---------------------------------------------------------------- builders: linear algebra

export function matmul(a: Value, b: Value): Value {
  return one(a.graph, 'MatMul', [a, b]);
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

export function gemm(a: Value, b: Value, c?: Value, o: GemmOptions = {}): Value {
  const attrs: Record<string, AttrValue> = {};
  if (o.transA) attrs.transA = 1;
  if (o.transB) attrs.transB = 1;
  if (o.alpha !== undefined && o.alpha !== 1) attrs.alpha = o.alpha;
  if (o.beta !== undefined && o.beta !== 1) attrs.beta = o.beta;
  return one(a.graph, 'Gemm', c ? [a, b, c] : [a, b], attrs);
}

/** PyTorch's nn.Linear: x [..., in] · W[out, in]ᵀ + b, as one Gemm over the flattened leading axes. */
export function linear(x: Value, weight: Value, bias?: Value): Value {
  const [out, inF] = weight.shape as [number, number];
  if (x.shape[x.rank - 1] !== inF) {
    throw new Error(`linear: input features ${x.shape[x.rank - 1]} ≠ weight in_features ${inF} (${weight.name})`);
  }
  const lead = x.shape.slice(0, -1);
  const flat = x.rank === 2 ? x : reshape(x, [-1, inF]);
  const y = gemm(flat, weight, bias, { transB: true });
  return x.rank === 2 ? y : reshape(y, [...lead, out]);
}

// ---------------------------------------------------------------- builders: reductions and norms

function axesInput(g: Graph, x: Value, axes: number | readonly number[]): Value {
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(a, x.rank));
  return ints(g, list);
}

const reducer =
  (op: string) =>
  (x: Value, axes: number | readonly number[], keepdims = true) =>
    one(x.graph, op, [x, axesInput(x.graph, x, axes)], { keepdims: keepdims ? 1 : 0 });
export const reduceSum = reducer('ReduceSum');
export const reduceMean = reducer('ReduceMean');
export const reduceMax = reducer('ReduceMax');

export function sumAll(x: Value): Value {
  return reduceSum(
    x,
    x.shape.map((_, i) => i),
    false,
  );
}

export function meanAll(x: Value): Value {
  return reduceMean(
    x,
    x.shape.map((_, i) => i),
    false,
  );
}

export function softmax(x: Value, axis = -1): Value {
  return one(x.graph, 'Softmax', [x], { axis: normAxis(axis, x.rank) });
}

/**
 * LayerNorm over the last axis; FLUX's norms have no affine parameters (scale defaults to ones).
 * float32 uses ORT's fused kernel; ORT has none for float64, which gets the formula instead.
 */
export function layerNorm(x: Value, eps = 1e-6, scale?: Value, bias?: Value): Value {
  if (x.dtype !== 'float32') {
    const centered = sub(x, reduceMean(x, -1));
    let y = div(centered, sqrt(add(reduceMean(square(centered), -1), eps)));
    if (scale) y = mul(y, scale);
    return bias ? add(y, bias) : y;
  }
  const d = x.shape[x.rank - 1]!;
  const ones = new Float32Array(d).fill(1);
  const s = scale ?? x.graph.constant(ones, [d], x.dtype);
  const inputs = bias ? [x, s, bias] : [x, s];
  return x.graph.apply('LayerNormalization', inputs, { axis: -1, epsilon: eps })[0]!;
}

/**
 * RMSNorm over the last axis with a learnable `scale` (FLUX's QK norm). float32 runs as ORT's
 * SimplifiedLayerNormalization kernel (one pass instead of seven nodes; ORT's own fusion does not
 * match this form); other dtypes get the formula.
 */
export function rmsNorm(x: Value, scale: Value, eps = 1e-6): Value {
  if (x.dtype === 'float32' && scale.rank === 1) return x.graph.apply('SimplifiedLayerNormalization', [x, scale], { axis: -1, epsilon: eps })[0]!;
  const rrms = reciprocal(sqrt(add(reduceMean(square(x), -1), eps)));
  return mul(mul(x, rrms), scale);
}

/**
 * PyTorch's GroupNorm over NC… tensors: statistics per (sample, group of C/groups channels),
 * then a per-channel affine. Built from Reshape, ReduceMean, Sub, Mul, Sqrt and Reciprocal —
 * kernels ONNX Runtime has on CPU and CUDA for every float type — rather than ONNX's
 * GroupNormalization (opset 18/21, missing or float-only in several providers); its gradient is
 * the composition of those ops' rules. The variance is taken of the centred values (two passes),
 * as exact as float32 gets. float16 input is normalised in float32 (as autocast does) because its
 * squares overflow at |x| > 256.
 */
export function groupNorm(x: Value, groups: number, weight?: Value, bias?: Value, eps = 1e-5): Value {
  const [n, c] = x.shape as [number, number];
  if (x.rank < 2 || c % groups !== 0) throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups (${x.toString()})`);
  const xs = x.dtype === 'float16' ? cast(x, 'float32') : x;
  const flat = reshape(xs, [n, groups, -1]);
  const centred = sub(flat, reduceMean(flat, -1));
  const rstd = reciprocal(sqrt(add(reduceMean(square(centred), -1), eps)));
  let y = cast(reshape(mul(centred, rstd), x.shape), x.dtype);
  const perChannel = [c, ...x.shape.slice(2).map(() => 1)];
  if (weight) y = mul(y, reshape(weight, perChannel));
  if (bias) y = add(y, reshape(bias, perChannel));
  return y;
}

/**
 * Rotates interleaved pairs of x [B, S, heads·D] (out[2i] = x[2i]·cos − x[2i+1]·sin, out[2i+1] =
 * x[2i]·sin + x[2i+1]·cos) by the table rows `positions` [B, S] (int64) picks from cos, sin
 * [rows, D/2]: ORT's RotaryEmbedding kernel (com.microsoft, float32).
 */
export function rotaryEmbedding(x: Value, positions: Value, cos: Value, sin: Value, heads: number): Value {
  return one(x.graph, 'RotaryEmbedding', [x, positions, cos, sin], { interleaved: 1, num_heads: heads });
}

// ---------------------------------------------------------------- builders: shapes

export function reshape(x: Value, shape: readonly number[]): Value {
  return one(x.graph, 'Reshape', [x, ints(x.graph, shape)]);
}

export function transpose(x: Value, perm: readonly number[]): Value {
  if (perm.every((p, i) => p === i)) return x;
  return one(x.graph, 'Transpose', [x], { perm: [...perm] });
}

export function concat(xs: readonly Value[], axis: number): Value {
  if (xs.length === 1) return xs[0]!;
  return one(xs[0]!.graph, 'Concat', [...xs], { axis: normAxis(axis, xs[0]!.rank) });
}

/** Slice [start, end) along `axis` (negative indices count from the end). */
export function slice(x: Value, axis: number, start: number, end: number): Value {
  const g = x.graph;
  const a = normAxis(axis, x.rank);
  return one(g, 'Slice', [x, ints(g, [start]), ints(g, [end]), ints(g, [a])]);
}

export function split(x: Value, sizes: readonly number[], axis: number): Value[] {
  const a = normAxis(axis, x.rank);
  return x.graph.apply('Split', [x, ints(x.graph, sizes)], { axis: a });
}

export function gather(x: Value, indices: Value, axis = 0): Value {
  return one(x.graph, 'Gather', [x, indices], { axis: normAxis(axis, x.rank) });
}

export function expand(x: Value, shape: readonly number[]): Value {
  return one(x.graph, 'Expand', [x, ints(x.graph, shape)]);
}

export function unsqueeze(x: Value, axes: number | readonly number[]): Value {
  const list = typeof axes === 'number' ? [axes] : [...axes];
  return one(x.graph, 'Unsqueeze', [x, ints(x.graph, list)]);
}

export function squeeze(x: Value, axes: number | readonly number[]): Value {
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(a, x.rank));
  return one(x.graph, 'Squeeze', [x, ints(x.graph, list)]);
}

export function pad(x: Value, before: readonly number[], after: readonly number[]): Value {
  return one(x.graph, 'Pad', [x, ints(x.graph, [...before, ...after])], { mode: 'constant' });
}

/**
 * Nearest-neighbour upsampling of the two trailing axes by an integer `factor` (PyTorch's
 * interpolate(mode="nearest") at scale 2: out[i, j] = in[⌊i/f⌋, ⌊j/f⌋]). Written as Reshape →
 * Expand → Reshape instead of ONNX Resize, so it runs for every dtype and provider and its
 * gradient (summing each f×f block) falls out of Expand's rule and the driver's broadcast sum.
 */
export function upsampleNearest(x: Value, factor = 2): Value {
  if (x.rank < 2 || !Number.isInteger(factor) || factor < 1) throw new Error(`upsampleNearest: bad input ${x.toString()} or factor ${factor}`);
  const lead = x.shape.slice(0, -2);
  const [h, w] = x.shape.slice(-2) as [number, number];
  const blocks = expand(reshape(x, [...lead, h, 1, w, 1]), [...lead, h, factor, w, factor]);
  return reshape(blocks, [...lead, h * factor, w * factor]);
}

/** Adds `updates` into a zero tensor of `shape` at `indices` (ScatterND with reduction add). */
export function scatterAdd(shape: readonly number[], indices: Value, updates: Value): Value {
  const base = zeros(updates.graph, shape, updates.dtype);
  return one(updates.graph, 'ScatterND', [base, indices, updates], { reduction: 'add' });
}

// ---------------------------------------------------------------- losses

export function mseLoss(pred: Value, target: Value): Value {
  return meanAll(square(sub(pred, target)));
}
