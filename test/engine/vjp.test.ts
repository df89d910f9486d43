// Every VJP rule against central finite differences (float64 where ONNX Runtime has the kernel).

import { describe, it } from 'node:test';
import type { Value } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { type GradCase, gradCheck } from './gradcheck.ts';

const X = (shape: number[], name = 'x', lo?: number, hi?: number) => ({ name, shape, lo, hi });

/** An ONNX Slice as written, unlike F.slice (one axis, normalised): several axes, negative axes, explicit steps. */
function onnxSlice(x: Value, starts: number[], ends: number[], axes: number[], steps?: number[]): Value {
  const g = x.graph;
  const inputs = [x, F.ints(g, starts), F.ints(g, ends), F.ints(g, axes), ...(steps ? [F.ints(g, steps)] : [])];
  return g.apply('Slice', inputs)[0]!;
}

const cases: Record<string, GradCase> = {
  'Add with broadcasting [2,3,4]+[4]': { inputs: [X([2, 3, 4]), X([4], 'y')], build: ([x, y]) => F.add(x!, y!) },
  'Sub with broadcasting [2,3,4]-[3,1]': { inputs: [X([2, 3, 4]), X([3, 1], 'y')], build: ([x, y]) => F.sub(x!, y!) },
  'Mul with broadcasting [3,1]*[1,4]': { inputs: [X([3, 1]), X([1, 4], 'y')], build: ([x, y]) => F.mul(x!, y!) },
  'Div with broadcasting': {
    inputs: [X([2, 3]), X([3], 'y', 0.5, 2)],
    build: ([x, y]) => F.div(x!, y!),
  },
  'Mul by a scalar constant': { inputs: [X([5])], build: ([x]) => F.mul(x!, 3) },
  'Pow by a constant': { inputs: [X([6], 'x', 0.2, 2)], build: ([x]) => F.pow(x!, 2.5) },
  'Pow by a tensor exponent': {
    inputs: [X([4], 'x', 0.5, 2), X([4], 'p', -1, 2)],
    build: ([x, p]) => F.pow(x!, p!),
  },
  'Max and Min': {
    inputs: [X([8]), X([8], 'y')],
    build: ([x, y]) => F.add(F.maximum(x!, y!), F.mul(F.minimum(x!, y!), 2)),
  },
  Neg: { inputs: [X([4])], build: ([x]) => F.neg(x!) },
  Abs: { inputs: [X([6], 'x', 0.1, 1)], build: ([x]) => F.abs(F.sub(x!, 0.55)) },
  Relu: { inputs: [X([6], 'x', 0.1, 1)], build: ([x]) => F.relu(F.sub(x!, 0.55)) },
  Exp: { inputs: [X([5])], build: ([x]) => F.exp(x!) },
  Log: { inputs: [X([5], 'x', 0.3, 3)], build: ([x]) => F.log(x!) },
  Sqrt: { inputs: [X([5], 'x', 0.3, 3)], build: ([x]) => F.sqrt(x!) },
  Reciprocal: { inputs: [X([5], 'x', 0.3, 3)], build: ([x]) => F.reciprocal(x!) },
  Tanh: { inputs: [X([5])], build: ([x]) => F.tanh(x!) },
  Sigmoid: { inputs: [X([5])], build: ([x]) => F.sigmoid(x!) },
  SiLU: { inputs: [X([5])], build: ([x]) => F.silu(x!) },
  Sin: { inputs: [X([5])], build: ([x]) => F.sin(x!) },
  Cos: { inputs: [X([5])], build: ([x]) => F.cos(x!) },
  'GELU tanh (formula, float64)': { inputs: [X([3, 5])], build: ([x]) => F.gelu(x!, 'tanh') },
  'Where with broadcasting': {
    inputs: [X([3, 4]), X([4], 'y'), X([3, 4], 'c')],
    build: ([x, y, c]) => F.where(F.greater(c!, 0), x!, y!),
  },
  'MatMul batched': { inputs: [X([2, 3, 4]), X([2, 4, 5], 'w')], build: ([x, w]) => F.matmul(x!, w!) },
  'MatMul broadcast batch [2,1,3,4]x[3,4,2]': {
    inputs: [X([2, 1, 3, 4]), X([3, 4, 2], 'w')],
    build: ([x, w]) => F.matmul(x!, w!),
  },
  'MatMul activations x weight [2,3,4]x[4,5]': { inputs: [X([2, 3, 4]), X([4, 5], 'w')], build: ([x, w]) => F.matmul(x!, w!) },
  'Gemm plain with bias': { inputs: [X([3, 4]), X([4, 5], 'b'), X([5], 'c')], build: ([a, b, c]) => F.gemm(a!, b!, c!) },
  'Gemm transA': { inputs: [X([4, 3]), X([4, 5], 'b')], build: ([a, b]) => F.gemm(a!, b!, undefined, { transA: true }) },
  'Gemm transB alpha beta': {
    inputs: [X([3, 4]), X([5, 4], 'b'), X([3, 1], 'c')],
    build: ([a, b, c]) => F.gemm(a!, b!, c!, { transB: true, alpha: 0.7, beta: 1.3 }),
  },
  'Gemm transA transB': {
    inputs: [X([4, 3]), X([5, 4], 'b')],
    build: ([a, b]) => F.gemm(a!, b!, undefined, { transA: true, transB: true }),
  },
  'linear over [2,3,4]': {
    inputs: [X([2, 3, 4]), X([6, 4], 'w'), X([6], 'b')],
    build: ([x, w, b]) => F.linear(x!, w!, b!),
  },
  'ReduceSum keepdims': { inputs: [X([2, 3, 4])], build: ([x]) => F.reduceSum(x!, [0, 2], true) },
  'ReduceSum no keepdims': { inputs: [X([2, 3, 4])], build: ([x]) => F.reduceSum(x!, 1, false) },
  ReduceMean: { inputs: [X([2, 3, 4])], build: ([x]) => F.reduceMean(x!, -1, false) },
  ReduceMax: { inputs: [X([3, 5])], build: ([x]) => F.reduceMax(x!, 1, true) },
  'mean of everything': { inputs: [X([2, 3])], build: ([x]) => F.meanAll(F.square(x!)) },
  Softmax: { inputs: [X([2, 3, 5])], build: ([x]) => F.softmax(x!, -1) },
  'Softmax on a middle axis': { inputs: [X([2, 4, 3])], build: ([x]) => F.softmax(x!, 1) },
  'LayerNorm without affine': { inputs: [X([2, 3, 6])], build: ([x]) => F.layerNorm(x!, 1e-6) },
  'LayerNorm with scale and bias': {
    inputs: [X([3, 6]), X([6], 's'), X([6], 'b')],
    build: ([x, s, b]) => F.layerNorm(x!, 1e-5, s!, b!),
  },
  RMSNorm: { inputs: [X([2, 3, 8]), X([8], 's')], build: ([x, s]) => F.rmsNorm(x!, s!) },
  Reshape: { inputs: [X([2, 3, 4])], build: ([x]) => F.mul(F.reshape(x!, [6, -1]), F.reshape(x!, [6, 4])) },
  Transpose: { inputs: [X([2, 3, 4])], build: ([x]) => F.transpose(x!, [2, 0, 1]) },
  Concat: {
    inputs: [X([2, 3]), X([2, 1], 'y'), X([2, 2], 'z')],
    build: ([x, y, z]) => F.concat([x!, y!, z!], 1),
  },
  Slice: { inputs: [X([3, 6])], build: ([x]) => F.slice(x!, 1, 1, 4) },
  'Slice with a negative start': { inputs: [X([3, 6])], build: ([x]) => F.slice(x!, 0, -2, 3) },
  'Slice on the last axis of a rank-3 tensor': { inputs: [X([2, 3, 5])], build: ([x]) => F.slice(x!, 2, 1, 4) },
  'Slice on a middle axis named by a negative axis': {
    inputs: [X([2, 5, 3])],
    build: ([x]) => onnxSlice(x!, [1], [4], [-2]),
  },
  'Slice on two axes at once, negative start and end': {
    inputs: [X([4, 5, 6])],
    build: ([x]) => onnxSlice(x!, [-3, 1], [-1, 5], [0, 2]),
  },
  'Slice on three axes with explicit unit steps': {
    inputs: [X([3, 4, 5])],
    build: ([x]) => onnxSlice(x!, [0, 1, 2], [2, 3, 4], [-1, 0, 1], [1, 1, 1]),
  },
  'Slice with out-of-range start and end clamped to the axis': {
    inputs: [X([3, 6])],
    build: ([x]) => onnxSlice(x!, [-100, 2], [2 ** 40, 100], [1, 0]),
  },
  'overlapping slices of one input': {
    inputs: [X([2, 6])],
    build: ([x]) => F.mul(F.slice(x!, 1, 0, 4), F.slice(x!, -1, 2, 6)),
  },
  'an empty slice next to a full one': {
    inputs: [X([2, 6])],
    build: ([x]) => F.concat([onnxSlice(x!, [4], [2], [1]), F.slice(x!, 1, 1, 3)], 1),
  },
  'Split with one part unused': {
    inputs: [X([2, 7])],
    build: ([x]) => {
      const [a, , c] = F.split(x!, [2, 3, 2], 1);
      return F.mul(a!, c!);
    },
  },
  Expand: { inputs: [X([3, 1])], build: ([x]) => F.expand(x!, [2, 3, 4]) },
  'Unsqueeze and Squeeze': {
    inputs: [X([3, 4])],
    build: ([x]) => F.mul(F.squeeze(F.unsqueeze(x!, [0, 2]), [0]), F.unsqueeze(x!, 1)),
  },
  Pad: { inputs: [X([2, 3])], build: ([x]) => F.pad(x!, [1, 0], [0, 2]) },
  'Gather (embedding lookup with repeated ids)': {
    inputs: [X([5, 3])],
    build: ([x], g) => F.gather(x!, F.tensor(g, BigInt64Array.from([0n, 3n, 3n, 1n, 4n, 0n]), [2, 3], 'int64')),
  },
  'fan-out: one input used three times': {
    inputs: [X([4])],
    build: ([x]) => F.add(F.mul(F.exp(x!), x!), F.sin(x!)),
  },
  'attention block': {
    inputs: [X([2, 2, 5, 4], 'q'), X([2, 2, 5, 4], 'k'), X([2, 2, 5, 4], 'v')],
    build: ([q, k, v]) => {
      const scores = F.mul(F.matmul(q!, F.transpose(k!, [0, 1, 3, 2])), 0.5);
      return F.matmul(F.softmax(scores, -1), v!);
    },
  },
};

describe('VJPs match finite differences (float64)', () => {
  for (const [name, c] of Object.entries(cases)) it(name, () => gradCheck(c, 'float64'));
});

describe('float32-only kernels match finite differences (float32)', () => {
  it('GELU tanh (ORT kernel)', () => gradCheck({ inputs: [X([3, 5])], build: ([x]) => F.gelu(x!, 'tanh') }, 'float32'));
  it('GELU exact (ORT kernel)', () => gradCheck({ inputs: [X([3, 5])], build: ([x]) => F.gelu(x!, 'none') }, 'float32'));
  it('LayerNorm kernel without affine', () => gradCheck({ inputs: [X([2, 3, 16])], build: ([x]) => F.layerNorm(x!, 1e-6) }, 'float32'));
  it('LayerNorm kernel with scale and bias', () =>
    gradCheck({ inputs: [X([3, 16]), X([16], 's'), X([16], 'b')], build: ([x, s, b]) => F.layerNorm(x!, 1e-5, s!, b!) }, 'float32'));
  it('Erf', () => gradCheck({ inputs: [X([6])], build: ([x]) => F.erf(x!) }, 'float32'));
  it('Cast float32 → float64 → float32', () => gradCheck({ inputs: [X([4])], build: ([x]) => F.cast(F.mul(F.cast(x!, 'float64'), 2), 'float32') }, 'float32'));
  it('a linear + LayerNorm + GELU stack', () =>
    gradCheck(
      {
        inputs: [X([2, 4, 8]), X([16, 8], 'w')],
        build: ([x, w]) => F.gelu(F.layerNorm(F.linear(x!, w!), 1e-6)),
      },
      'float32',
    ));
});
