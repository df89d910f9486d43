// Reverse-mode autodiff over the graph IR: one table of local rules and one driver. Every rule is
// written with standard ONNX ops, because the inference build of ONNX Runtime has no gradient
// kernels. A rule may return an input's gradient in the broadcast (output) shape: the driver sums
// it back to the input's shape, so no rule has to undo broadcasting itself. Fan-out is summed as
// gradients arrive, and only nodes that lie between the requested inputs and the loss get a
// backward pass.

import { convBiasGrad, convTranspose, convWeightGrad, convWith, nodeConvAttrs } from './conv.ts';
import { allocate, isFloat } from './dtype.ts';
import { GraphError, type Node, nodesFor, type Value } from './graph.ts';
import * as F from './ops.ts';
import { broadcastShapes, sameShape, sliceWindows } from './shape.ts';

type Grads = (Value | undefined)[];
type Vjp = (node: Node, gOut: Grads, needs: boolean[]) => Grads;

/** Sums a broadcast gradient back down to `shape`. */
function unbroadcast(g: Value, shape: readonly number[]): Value {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? F.reduceSum(g, axes, true) : g;
  return sameShape(summed.shape, shape) ? summed : F.reshape(summed, shape);
}

function constNumber(v: Value): number | undefined {
  const data = v.graph.constants.get(v);
  if (data?.length !== 1 || data instanceof BigInt64Array) return undefined;
  return Number(data[0]);
}

function readInts(v: Value): number[] {
  const data = v.graph.constants.get(v);
  if (!(data instanceof BigInt64Array)) throw new GraphError(`${v.name} is not an int64 constant`);
  return Array.from(data, Number);
}

function transposeLast2(x: Value): Value {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[x.rank - 2]!];
  return F.transpose(x, perm);
}

function zerosLike(v: Value): Value {
  return F.zeros(v.graph, v.shape, v.dtype);
}

function isOnes(v: Value): boolean {
  const data = v.graph.constants.get(v);
  return !!data && !(data instanceof BigInt64Array) && Array.from(data as Float32Array).every((x) => x === 1);
}

const rules = new Map<string, Vjp>();
const rule = (op: string, fn: Vjp) => rules.set(op, fn);

// ---------------------------------------------------------------- elementwise

rule('Identity', (_n, [g]) => [g]);
rule('Add', (_n, [g]) => [g, g]);
rule('Sub', (_n, [g], needs) => [g, needs[1] ? F.neg(g!) : undefined]);
rule('Mul', ({ inputs: [a, b] }, [g], needs) => [needs[0] ? F.mul(g!, b!) : undefined, needs[1] ? F.mul(g!, a!) : undefined]);
rule('Div', ({ inputs: [, b], outputs: [y] }, [g], needs) => {
  const ga = needs[0] || needs[1] ? F.div(g!, b!) : undefined;
  return [needs[0] ? ga : undefined, needs[1] ? F.neg(F.mul(ga!, y!)) : undefined];
});
rule('Pow', ({ inputs: [x, p], outputs: [y] }, [g], needs) => {
  const k = constNumber(p!);
  let gx: Value | undefined;
  if (needs[0]) {
    if (k === 2) gx = F.mul(g!, F.mul(x!, 2));
    else if (k !== undefined) gx = F.mul(g!, F.mul(F.pow(x!, k - 1), k));
    else gx = F.mul(g!, F.mul(F.pow(x!, F.sub(p!, 1)), p!));
  }
  return [gx, needs[1] ? F.mul(g!, F.mul(y!, F.log(x!))) : undefined];
});
rule('Max', ({ inputs: [a, b] }, [g], needs) => {
  const aWins = F.less(b!, a!);
  return [needs[0] ? F.where(aWins, g!, 0) : undefined, needs[1] ? F.where(aWins, 0, g!) : undefined];
});
rule('Min', ({ inputs: [a, b] }, [g], needs) => {
  const aWins = F.less(a!, b!);
  return [needs[0] ? F.where(aWins, g!, 0) : undefined, needs[1] ? F.where(aWins, 0, g!) : undefined];
});
rule('Neg', (_n, [g]) => [F.neg(g!)]);
rule('Abs', ({ inputs: [x] }, [g]) => [F.mul(g!, F.sign(x!))]);
rule('Relu', ({ inputs: [x] }, [g]) => [F.where(F.greater(x!, 0), g!, 0)]);
rule('Exp', ({ outputs: [y] }, [g]) => [F.mul(g!, y!)]);
rule('Log', ({ inputs: [x] }, [g]) => [F.div(g!, x!)]);
rule('Sqrt', ({ outputs: [y] }, [g]) => [F.div(F.mul(g!, 0.5), y!)]);
rule('Reciprocal', ({ outputs: [y] }, [g]) => [F.neg(F.mul(g!, F.square(y!)))]);
rule('Tanh', ({ outputs: [y] }, [g]) => [F.mul(g!, F.sub(1, F.square(y!)))]);
rule('Sigmoid', ({ outputs: [y] }, [g]) => [F.mul(g!, F.mul(y!, F.sub(1, y!)))]);
rule('Sin', ({ inputs: [x] }, [g]) => [F.mul(g!, F.cos(x!))]);
rule('Cos', ({ inputs: [x] }, [g]) => [F.neg(F.mul(g!, F.sin(x!)))]);
rule('Erf', ({ inputs: [x] }, [g]) => [F.mul(g!, F.mul(F.exp(F.neg(F.square(x!))), 2 / Math.sqrt(Math.PI)))]);
rule('Gelu', ({ inputs: [x], attrs }, [g]) => {
  const xv = x!;
  if (attrs.approximate === 'tanh') {
    const c = Math.sqrt(2 / Math.PI);
    const x2 = F.square(xv);
    const t = F.tanh(F.mul(F.mul(xv, F.add(F.mul(x2, 0.044715), 1)), c));
    const dt = F.mul(F.sub(1, F.square(t)), F.mul(F.add(F.mul(x2, 3 * 0.044715), 1), c));
    return [F.mul(g!, F.mul(F.add(F.add(t, 1), F.mul(xv, dt)), 0.5))];
  }
  const cdf = F.mul(F.add(F.erf(F.mul(xv, Math.SQRT1_2)), 1), 0.5);
  const pdf = F.mul(F.exp(F.mul(F.square(xv), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return [F.mul(g!, F.add(cdf, F.mul(xv, pdf)))];
});
rule('Where', ({ inputs: [c] }, [g], needs) => [undefined, needs[1] ? F.where(c!, g!, 0) : undefined, needs[2] ? F.where(c!, 0, g!) : undefined]);
rule('Cast', ({ inputs: [x] }, [g]) => [F.cast(g!, x!.dtype)]);

// ---------------------------------------------------------------- linear algebra

rule('MatMul', ({ inputs: [a, b] }, [g], needs) => {
  const A = a!;
  const B = b!;
  let ga: Value | undefined;
  let gb: Value | undefined;
  if (needs[0]) ga = F.matmul(g!, transposeLast2(B));
  if (needs[1]) {
    if (B.rank === 2 && A.rank > 2) {
      // x[..., K] · W[K, N]: one Gemm over the flattened rows instead of a batched product plus a reduction.
      const K = A.shape[A.rank - 1]!;
      const N = B.shape[1]!;
      gb = F.gemm(F.reshape(A, [-1, K]), F.reshape(g!, [-1, N]), undefined, { transA: true });
    } else {
      gb = F.matmul(transposeLast2(A), g!);
    }
  }
  return [ga, gb];
});

rule('Gemm', ({ inputs: [a, b, c], attrs }, [g], needs) => {
  const tA = !!attrs.transA;
  const tB = !!attrs.transB;
  const alpha = (attrs.alpha as number | undefined) ?? 1;
  const beta = (attrs.beta as number | undefined) ?? 1;
  const ga = !needs[0] ? undefined : tA ? F.gemm(b!, g!, undefined, { transA: tB, transB: true, alpha }) : F.gemm(g!, b!, undefined, { transB: !tB, alpha });
  const gb = !needs[1] ? undefined : tB ? F.gemm(g!, a!, undefined, { transA: true, transB: tA, alpha }) : F.gemm(a!, g!, undefined, { transA: !tA, alpha });
  const gc = c && needs[2] ? (beta === 1 ? g! : F.mul(g!, beta)) : undefined;
  return [ga, gb, gc];
});

// ---------------------------------------------------------------- convolution

rule('Conv', ({ inputs: [x, w, b], attrs }, [g], needs) => {
  const a = nodeConvAttrs(attrs);
  const [X, W] = [x!, w!];
  const kernel: [number, number] = [W.shape[2]!, W.shape[3]!];
  let gx: Value | undefined;
  if (needs[0]) {
    // The rows a stride skipped at the end of the input get gradient zero: ConvTranspose's
    // output_padding restores them so the gradient has the input's size.
    const extra = [0, 1].map((i) => (X.shape[2 + i]! + a.pads[i]! + a.pads[i + 2]! - (kernel[i]! - 1) * a.dilations[i]! - 1) % a.strides[i]!);
    gx = convTranspose(g!, W, undefined, a, [extra[0]!, extra[1]!]);
  }
  return [gx, needs[1] ? convWeightGrad(X, g!, kernel, a) : undefined, b && needs[2] ? convBiasGrad(g!) : undefined];
});

// ConvTranspose is Conv's adjoint: its input gradient is the Conv it transposes, and its weight
// gradient is the same correlation as Conv's with the roles of input and output exchanged.
rule('ConvTranspose', ({ inputs: [x, w, b], attrs }, [g], needs) => {
  const a = nodeConvAttrs(attrs);
  const kernel: [number, number] = [w!.shape[2]!, w!.shape[3]!];
  return [
    needs[0] ? convWith(g!, w!, undefined, a) : undefined,
    needs[1] ? convWeightGrad(g!, x!, kernel, a) : undefined,
    b && needs[2] ? convBiasGrad(g!) : undefined,
  ];
});

// ---------------------------------------------------------------- reductions and normalisation

function reducedAxes(node: Node): number[] {
  const x = node.inputs[0]!;
  if (!node.inputs[1]) return x.shape.map((_, i) => i);
  const data = readInts(node.inputs[1]);
  return data.map((a) => (a < 0 ? a + x.rank : a));
}

/** Shape of a reduction's output had it kept its reduced axes. */
function keptShape(node: Node): number[] {
  const x = node.inputs[0]!;
  const axes = reducedAxes(node);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function spread(node: Node, g: Value): Value {
  const x = node.inputs[0]!;
  const kept = keptShape(node);
  const gk = sameShape(g.shape, kept) ? g : F.reshape(g, kept);
  return F.expand(gk, x.shape);
}

rule('ReduceSum', (node, [g]) => [spread(node, g!)]);
rule('ReduceMean', (node, [g]) => {
  const x = node.inputs[0]!;
  const count = reducedAxes(node).reduce((n, a) => n * x.shape[a]!, 1);
  return [F.div(spread(node, g!), count)];
});
rule('ReduceMax', (node, [g]) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const kept = keptShape(node);
  const yk = sameShape(y.shape, kept) ? y : F.reshape(y, kept);
  const mask = F.cast(F.equal(x, yk), x.dtype);
  const ties = F.reduceSum(mask, reducedAxes(node), true);
  return [F.mul(spread(node, g!), F.div(mask, ties))];
});

rule('Softmax', ({ outputs: [y], attrs }, [g]) => {
  const axis = attrs.axis as number;
  return [F.mul(y!, F.sub(g!, F.reduceSum(F.mul(g!, y!), axis, true)))];
});

rule('LayerNormalization', ({ inputs: [x, scale, bias], outputs: [, mean, invStd] }, [g], needs) => {
  const X = x!;
  const xhat = F.mul(F.sub(X, mean!), invStd!);
  const gy = isOnes(scale!) ? g! : F.mul(g!, scale!);
  let gx: Value | undefined;
  if (needs[0]) {
    const m1 = F.reduceMean(gy, -1, true);
    const m2 = F.reduceMean(F.mul(gy, xhat), -1, true);
    gx = F.mul(F.sub(F.sub(gy, m1), F.mul(xhat, m2)), invStd!);
  }
  return [gx, needs[1] ? F.mul(g!, xhat) : undefined, bias && needs[2] ? g! : undefined];
});

// y = x·r·scale with r = (mean(x²) + eps)^(−1/2), the kernel's second output; x̂ = x·r:
// ∂L/∂x = r·(g·scale − x̂·mean(g·scale·x̂)), ∂L/∂scale = Σ g·x̂ (summed by the driver).
rule('SimplifiedLayerNormalization', ({ inputs: [x, scale], outputs: [, invStd] }, [g], needs) => {
  const xhat = F.mul(x!, invStd!);
  let gx: Value | undefined;
  if (needs[0]) {
    const gy = F.mul(g!, scale!);
    gx = F.mul(F.sub(gy, F.mul(xhat, F.reduceMean(F.mul(gy, xhat), -1, true))), invStd!);
  }
  return [gx, needs[1] ? F.mul(g!, xhat) : undefined];
});

// A rotation's adjoint is the rotation by −φ: the same kernel with the sine negated.
rule('RotaryEmbedding', ({ inputs: [, pos, cos, sin], attrs }, [g], needs) => {
  if (needs[2] || needs[3]) throw new GraphError('RotaryEmbedding: no gradient for the cos/sin tables (they are fed data)');
  return [F.rotaryEmbedding(g!, pos!, cos!, F.neg(sin!), attrs.num_heads as number), undefined, undefined, undefined];
});

// ---------------------------------------------------------------- shapes

rule('Reshape', ({ inputs: [x] }, [g]) => [F.reshape(g!, x!.shape)]);
rule('Unsqueeze', ({ inputs: [x] }, [g]) => [F.reshape(g!, x!.shape)]);
rule('Squeeze', ({ inputs: [x] }, [g]) => [F.reshape(g!, x!.shape)]);
rule('Expand', (_n, [g]) => [g]);
rule('Transpose', ({ attrs }, [g]) => {
  const perm = attrs.perm as number[];
  const inv = perm.map((_, i) => perm.indexOf(i));
  return [F.transpose(g!, inv)];
});
rule('Concat', ({ inputs, attrs }, [g], needs) => {
  const axis = attrs.axis as number;
  let offset = 0;
  return inputs.map((v, i) => {
    const start = offset;
    offset += v.shape[axis]!;
    return needs[i] ? F.slice(g!, axis, start, offset) : undefined;
  });
});
rule('Split', ({ outputs, attrs }, gOut) => {
  const axis = attrs.axis as number;
  return [
    F.concat(
      outputs.map((o, i) => gOut[i] ?? zerosLike(o)),
      axis,
    ),
  ];
});
rule('Slice', ({ inputs: [x, starts, ends, axes, steps] }, [g]) => {
  // The windows come from the forward's own sliceWindows, so both agree on negative axes and clamping.
  const before = x!.shape.map(() => 0);
  const after = x!.shape.map(() => 0);
  const windows = sliceWindows(x!.shape, readInts(starts!), readInts(ends!), readInts(axes!), steps && readInts(steps));
  for (const { axis, start, length } of windows) {
    before[axis] = start;
    after[axis] = x!.shape[axis]! - start - length;
  }
  return [F.pad(g!, before, after)];
});
rule('Pad', (node, [g]) => {
  const x = node.inputs[0]!;
  const pads = readInts(node.inputs[1]!);
  let out = g!;
  x.shape.forEach((d, axis) => {
    if (pads[axis] || pads[axis + x.rank]) out = F.slice(out, axis, pads[axis]!, pads[axis]! + d);
  });
  return [out];
});
rule('Gather', ({ inputs: [x, idx], attrs }, [g]) => {
  if (((attrs.axis as number) ?? 0) !== 0) throw new Error('Gather gradient is implemented for axis 0 only');
  const indices = F.unsqueeze(F.cast(idx!, 'int64'), -1);
  return [F.scatterAdd(x!.shape, indices, g!), undefined];
});

// Sign is piecewise constant: its gradient is zero wherever it is defined.
rule('Sign', () => [undefined]);

/**
 * The registered ops that have no rule, each with the reason. grad() refuses to go through one
 * (naming the reason) rather than let a missing rule pass for a zero gradient.
 */
export const NON_DIFFERENTIABLE: ReadonlyMap<string, string> = new Map([
  ['Equal', 'its output is bool, and no rule sends a gradient to a bool value'],
  ['Less', 'its output is bool, and no rule sends a gradient to a bool value'],
  ['Greater', 'its output is bool, and no rule sends a gradient to a bool value'],
  ['ScatterND', "only Gather's rule emits it: differentiating a backward graph (second order) is not supported"],
]);

export function hasGradientRule(op: string): boolean {
  return rules.has(op);
}

// ---------------------------------------------------------------- the driver

/** Whether a gradient of shape `to` can be summed down to `from` (i.e. `from` broadcasts to `to`). */
function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  try {
    return sameShape(broadcastShapes(from, to), to);
  } catch {
    return false;
  }
}

/** A node's rule applied, with every input gradient it returns summed back to that input's shape. */
function inputGradients(node: Node, gOut: Grads, needs: boolean[]): Grads {
  const vjp = rules.get(node.op);
  if (!vjp) {
    const why = NON_DIFFERENTIABLE.get(node.op);
    throw new GraphError(`node '${node.name}': no gradient rule for op '${node.op}'${why ? ` (${why})` : ''}`);
  }
  const gIn = vjp(node, gOut, needs);
  return node.inputs.map((v, k) => {
    const gv = gIn[k];
    if (!needs[k] || !gv) return undefined;
    if (!broadcastsTo(v.shape, gv.shape)) {
      throw new GraphError(`node '${node.name}' (${node.op}) backward: gradient [${gv.shape}] does not match input ${v.toString()}`);
    }
    return unbroadcast(gv, v.shape);
  });
}

/**
 * Gradients of `y` with respect to `wrt`. `y` must be a scalar unless `seed` (dL/dy) is given.
 * Inputs that `y` does not depend on get zero gradients.
 */
export function grad(y: Value, wrt: readonly Value[], seed?: Value): Value[] {
  const g = y.graph;
  if (!seed) {
    if (y.size !== 1) throw new GraphError(`grad: ${y.name} is not a scalar; pass a seed gradient`);
    const one = allocate(y.dtype, 1) as Float32Array;
    one[0] = 1;
    seed = g.constant(one, y.shape, y.dtype);
  }
  const order = nodesFor([y]);
  const dependsOnWrt = new Set(wrt.map((v) => v.id));
  for (const n of order) {
    if (n.inputs.some((v) => dependsOnWrt.has(v.id))) for (const o of n.outputs) dependsOnWrt.add(o.id);
  }
  const grads = new Map<number, Value>([[y.id, seed]]);
  g.scope('grad', () => {
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i]!;
      const gOut = node.outputs.map((o) => grads.get(o.id));
      if (gOut.every((x) => !x)) continue;
      const needs = node.inputs.map((v) => dependsOnWrt.has(v.id) && isFloat(v.dtype));
      if (!needs.some(Boolean)) continue;
      let gIn: Grads;
      try {
        gIn = g.scope(node.name.replace(/\//g, '.'), () => inputGradients(node, gOut, needs));
      } catch (e) {
        if (e instanceof GraphError) throw e;
        throw new GraphError(`node '${node.name}' (${node.op}) backward: ${(e as Error).message}`);
      }
      node.inputs.forEach((v, k) => {
        const gv = gIn[k];
        if (!gv) return;
        const prev = grads.get(v.id);
        grads.set(v.id, prev ? F.add(prev, gv) : gv);
      });
    }
  });
  return wrt.map((v) => grads.get(v.id) ?? zerosLike(v));
}
