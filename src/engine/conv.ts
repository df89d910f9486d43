// 2-D convolution: ONNX Conv and ConvTranspose with their static shape inference, the builders,
// and the weight-gradient convolution their VJPs share. Images are NCHW and weights
// [out, in, kh, kw] as in PyTorch. Padding is [top, left, bottom, right] (ONNX's begin/end
// order). conv2d gives every Conv node symmetric pads and puts any excess on one side into a Pad
// node before it — BFL's Downsample, pad (0,1,0,1) then a stride-2 3×3 conv, is exactly that —
// because cuDNN takes one padding per axis and symmetric pads are the form every provider runs
// natively. The nodes and rules themselves accept asymmetric pads. Only group = 1 exists:
// nothing in FLUX uses grouped convolutions, and the weight gradient below assumes it.

import { registerOp, type Value } from './graph.ts';
import { pad, reduceSum, slice, transpose } from './ops.ts';

export type Pads4 = readonly [number, number, number, number];

export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  /** One number for all four sides, or [top, left, bottom, right]. */
  padding?: number | Pads4;
  dilation?: number | readonly [number, number];
}

/** The attributes one 2-D Conv or ConvTranspose node carries. */
export interface ConvAttrs {
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
}

const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

export function convAttrs(o: Conv2dOptions = {}): ConvAttrs {
  const p = o.padding ?? 0;
  const pads: [number, number, number, number] = typeof p === 'number' ? [p, p, p, p] : [p[0], p[1], p[2], p[3]];
  const attrs = { strides: pair(o.stride, 1), pads, dilations: pair(o.dilation, 1) };
  for (const v of [...attrs.strides, ...attrs.dilations]) if (!Number.isInteger(v) || v < 1) throw new Error(`conv: bad stride/dilation ${v}`);
  for (const v of pads) if (!Number.isInteger(v) || v < 0) throw new Error(`conv: bad padding ${v}`);
  return attrs;
}

/** Reads a node's attributes back (the VJP rules get them from the node). */
export function nodeConvAttrs(attrs: Readonly<Record<string, unknown>>): ConvAttrs {
  const [t, l, b, r] = attrs.pads as number[];
  const [sh, sw] = attrs.strides as number[];
  const [dh, dw] = attrs.dilations as number[];
  return { strides: [sh!, sw!], pads: [t!, l!, b!, r!], dilations: [dh!, dw!] };
}

/** Output length of one spatial axis of a Conv. */
export function convOutLength(input: number, kernel: number, stride: number, padBegin: number, padEnd: number, dilation: number): number {
  return Math.floor((input + padBegin + padEnd - (kernel - 1) * dilation - 1) / stride) + 1;
}

function checkConvInputs(inputs: readonly Value[], attrs: Readonly<Record<string, unknown>>): [Value, Value, ConvAttrs] {
  const [x, w, b] = inputs as [Value, Value, Value | undefined];
  if (x.rank !== 4 || w.rank !== 4) throw new Error('2-D convolutions need rank-4 input and weight');
  if (x.dtype !== w.dtype || (b && b.dtype !== x.dtype)) throw new Error('dtype mismatch');
  if ((attrs.group ?? 1) !== 1) throw new Error('only group = 1 is supported');
  return [x, w, nodeConvAttrs(attrs)];
}

registerOp('Conv', (inputs, attrs) => {
  const [x, w, a] = checkConvInputs(inputs, attrs);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, ci, kh, kw] = w.shape as [number, number, number, number];
  if (ci !== c) throw new Error(`weight expects ${ci} input channels, the input has ${c}`);
  if (inputs[2] && (inputs[2].rank !== 1 || inputs[2].shape[0] !== o)) throw new Error(`bias must be [${o}]`);
  const ho = convOutLength(h, kh, a.strides[0], a.pads[0], a.pads[2], a.dilations[0]);
  const wo = convOutLength(wd, kw, a.strides[1], a.pads[1], a.pads[3], a.dilations[1]);
  if (ho < 1 || wo < 1) throw new Error('the kernel is larger than the padded input');
  return [{ shape: [n, o, ho, wo], dtype: x.dtype }];
});

registerOp('ConvTranspose', (inputs, attrs) => {
  const [x, w, a] = checkConvInputs(inputs, attrs);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [ci, o, kh, kw] = w.shape as [number, number, number, number];
  if (ci !== c) throw new Error(`weight expects ${ci} input channels, the input has ${c}`);
  if (inputs[2] && (inputs[2].rank !== 1 || inputs[2].shape[0] !== o)) throw new Error(`bias must be [${o}]`);
  const [oph, opw] = (attrs.output_padding as number[] | undefined) ?? [0, 0];
  const len = (i: number, k: number, s: number, op: number, p0: number, p1: number, d: number) => s * (i - 1) + op + (k - 1) * d + 1 - p0 - p1;
  const ho = len(h, kh, a.strides[0], oph!, a.pads[0], a.pads[2], a.dilations[0]);
  const wo = len(wd, kw, a.strides[1], opw!, a.pads[1], a.pads[3], a.dilations[1]);
  if (ho < 1 || wo < 1) throw new Error('empty output');
  return [{ shape: [n, o, ho, wo], dtype: x.dtype }];
});

const emitAttrs = (a: ConvAttrs) => ({ strides: [...a.strides], pads: [...a.pads], dilations: [...a.dilations] });

/**
 * PyTorch's conv2d: x [N,C,H,W] ⊛ weight [O,C,kh,kw] (+ bias [O]). Asymmetric padding becomes a
 * zero Pad of the excess (bottom/right for BFL's Downsample) and a Conv with symmetric pads.
 */
export function conv2d(x: Value, weight: Value, bias?: Value, o: Conv2dOptions = {}): Value {
  const a = convAttrs(o);
  const [t, l, b, r] = a.pads;
  const [sh, sw] = [Math.min(t, b), Math.min(l, r)];
  const input = t === b && l === r ? x : pad(x, [0, 0, t - sh, l - sw], [0, 0, b - sh, r - sw]);
  return convWith(input, weight, bias, { ...a, pads: [sh, sw, sh, sw] });
}

export function convWith(x: Value, weight: Value, bias: Value | undefined, a: ConvAttrs): Value {
  return x.graph.apply('Conv', bias ? [x, weight, bias] : [x, weight], emitAttrs(a))[0]!;
}

/**
 * ConvTranspose (the adjoint of Conv in its input): x [N,C,h,w], weight [C,O,kh,kw].
 * `outputPadding` adds rows/columns at the end, which is how the input gradient of a strided
 * conv recovers input sizes that the stride rounded away.
 */
export function convTranspose(x: Value, weight: Value, bias: Value | undefined, a: ConvAttrs, outputPadding: readonly [number, number] = [0, 0]): Value {
  const attrs = { ...emitAttrs(a), output_padding: [...outputPadding] };
  return x.graph.apply('ConvTranspose', bias ? [x, weight, bias] : [x, weight], attrs)[0]!;
}

/**
 * ∂/∂weight of a Conv with attributes `a`, given its input `x` [N,C,H,W] and output gradient
 * `gy` [N,O,Ho,Wo]: Σ_n,ho,wo gy[n,o,ho,wo]·x_pad[n,c,ho·s+i·d,wo·s+j·d], which is itself a Conv
 * of x (batch and channels swapped) with gy as the kernel, stride and dilation exchanged. The
 * result can exceed the kernel where the stride rounded the last rows away; those are dropped.
 * Returns [O, C, kh, kw].
 */
export function convWeightGrad(x: Value, gy: Value, kernel: readonly [number, number], a: ConvAttrs): Value {
  const swapped: ConvAttrs = { strides: a.dilations, pads: a.pads, dilations: a.strides };
  let r = convWith(transpose(x, [1, 0, 2, 3]), transpose(gy, [1, 0, 2, 3]), undefined, swapped);
  if (r.shape[2]! > kernel[0]) r = slice(r, 2, 0, kernel[0]);
  if (r.shape[3]! > kernel[1]) r = slice(r, 3, 0, kernel[1]);
  return transpose(r, [1, 0, 2, 3]);
}

/** ∂/∂bias: the output gradient summed over batch and space. */
export function convBiasGrad(gy: Value): Value {
  return reduceSum(gy, [0, 2, 3], false);
}
