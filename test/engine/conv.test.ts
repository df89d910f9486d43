// 2-D Conv and ConvTranspose: the forward against a plain loop (float64 accumulation), and both
// VJPs against finite differences. ONNX Runtime's CPU provider has these kernels in float32
// only, so the gradient checks run in float32 (the ops are linear in each operand, so central
// differences are exact up to rounding). The cases cover BFL's autoencoder convolutions: 3×3
// padding 1, 1×1, and Downsample's (0,1,0,1) padding with stride 2, on even and odd sizes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.ts';
import { type Conv2dOptions, conv2d, convAttrs, convTranspose, convWith } from '../../src/engine/conv.ts';
import { Graph } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';
import { gradCheck } from './gradcheck.ts';

const X = (shape: number[], name: string) => ({ name, shape });

/** PyTorch's conv2d as four loops over the zero-padded input. */
function referenceConv(x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array | undefined, o: Conv2dOptions) {
  const a = convAttrs(o);
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [co, , kh, kw] = ws as [number, number, number, number];
  const [sh, sw] = a.strides;
  const [dh, dw] = a.dilations;
  const [pt, pl, pb, pr] = a.pads;
  const ho = Math.floor((h + pt + pb - (kh - 1) * dh - 1) / sh) + 1;
  const wo = Math.floor((wd + pl + pr - (kw - 1) * dw - 1) / sw) + 1;
  const out = new Float64Array(n * co * ho * wo);
  for (let b0 = 0; b0 < n; b0++)
    for (let oc = 0; oc < co; oc++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let s = b ? b[oc]! : 0;
          for (let ic = 0; ic < c; ic++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++) {
                const y = i * sh + p * dh - pt;
                const xx = j * sw + q * dw - pl;
                if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
                s += x[((b0 * c + ic) * h + y) * wd + xx]! * w[((oc * c + ic) * kh + p) * kw + q]!;
              }
          out[((b0 * co + oc) * ho + i) * wo + j] = s;
        }
  return { out, shape: [n, co, ho, wo] };
}

const layouts: Record<string, { x: number[]; w: number[]; o: Conv2dOptions }> = {
  '3×3, padding 1 (ResnetBlock conv)': { x: [2, 3, 5, 6], w: [4, 3, 3, 3], o: { padding: 1 } },
  '1×1 (AttnBlock q/k/v, nin_shortcut)': { x: [1, 4, 3, 5], w: [2, 4, 1, 1], o: {} },
  'Downsample: pads (0,1,0,1), stride 2, even size': { x: [1, 3, 8, 6], w: [3, 3, 3, 3], o: { stride: 2, padding: [0, 0, 1, 1] } },
  'Downsample: pads (0,1,0,1), stride 2, odd size': { x: [2, 2, 7, 5], w: [3, 2, 3, 3], o: { stride: 2, padding: [0, 0, 1, 1] } },
  'stride 3 with rows left over, dilation 2, asymmetric pads': {
    x: [1, 2, 11, 9],
    w: [2, 2, 3, 2],
    o: { stride: [3, 2], padding: [1, 0, 2, 1], dilation: [2, 1] },
  },
};

describe('Conv forward matches a plain loop', () => {
  for (const [name, { x: xs, w: ws, o }] of Object.entries(layouts)) {
    it(name, async () => {
      const rng = new Rng(7);
      const x = rng.fillNormal(new Float32Array(xs.reduce((a, b) => a * b)));
      const w = rng.fillNormal(new Float32Array(ws.reduce((a, b) => a * b)));
      const b = rng.fillNormal(new Float32Array(ws[0]!));
      const g = new Graph();
      const y = conv2d(g.input('x', xs), g.input('w', ws), g.input('b', [ws[0]!]), o);
      const ref = referenceConv(x, xs, w, ws, b, o);
      assert.deepEqual([...y.shape], ref.shape);
      const s = await Session.create({ outputs: { y } });
      const got = (await s.run({ x, w, b })).y as Float32Array;
      await s.release();
      let err = 0;
      for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - ref.out[i]!));
      assert.ok(err < 1e-5, `max abs error ${err}`);
    });
  }
});

describe('Conv VJPs match finite differences (float32)', () => {
  for (const [name, { x, w, o }] of Object.entries(layouts)) {
    it(name, () => gradCheck({ inputs: [X(x, 'x'), X(w, 'w'), X([w[0]!], 'b')], build: ([xv, wv, bv]) => conv2d(xv!, wv!, bv!, o) }, 'float32'));
  }
  // conv2d never emits these (it pads the excess separately), but the node and its rule take them.
  it('a Conv node with asymmetric pads, stride 2, odd size', () =>
    gradCheck(
      {
        inputs: [X([1, 2, 7, 6], 'x'), X([3, 2, 3, 3], 'w'), X([3], 'b')],
        build: ([xv, wv, bv]) => convWith(xv!, wv!, bv!, convAttrs({ stride: 2, padding: [0, 1, 1, 0] })),
      },
      'float32',
    ));
  it('a conv of a conv (the gradient flows through both)', () =>
    gradCheck(
      {
        inputs: [X([1, 2, 6, 6], 'x'), X([3, 2, 3, 3], 'w1'), X([2, 3, 3, 3], 'w2')],
        build: ([xv, w1, w2]) => conv2d(conv2d(xv!, w1!, undefined, { stride: 2, padding: [0, 0, 1, 1] }), w2!, undefined, { padding: 1 }),
      },
      'float32',
    ));
});

// Conv is linear in x and in w, so the exact directional derivatives are plain convolutions:
// <∂L/∂x, v> = <R, conv(v, w)> and <∂L/∂w, u> = <R, conv(x, u)> for L = <R, conv(x, w) + b>.
// Computed by the float64 loop, they check the VJPs far tighter than finite differences in float32.
describe('Conv VJPs equal the exact adjoint (float64 loop)', () => {
  for (const [name, { x: xs, w: ws, o }] of Object.entries(layouts)) {
    it(name, async () => {
      const rng = new Rng(11);
      const rand = (n: number) => rng.fillNormal(new Float32Array(n));
      const size = (s: number[]) => s.reduce((a, b) => a * b);
      const [x, w, b, v, u] = [rand(size(xs)), rand(size(ws)), rand(ws[0]!), rand(size(xs)), rand(size(ws))];
      const y = referenceConv(x, xs, w, ws, b, o);
      const r = rand(y.out.length);
      const g = new Graph();
      const [xv, wv, bv] = [g.input('x', xs), g.input('w', ws), g.input('b', [ws[0]!])];
      const out = conv2d(xv, wv, bv, o);
      const [gx, gw, gb] = grad(F.sumAll(F.mul(out, F.tensor(g, r, out.shape))), [xv, wv, bv]);
      const s = await Session.create({ outputs: { gx: gx!, gw: gw!, gb: gb! } });
      const res = await s.run({ x, w, b });
      await s.release();
      const dot = (a: ArrayLike<number>, c: ArrayLike<number>) => {
        let t = 0;
        for (let i = 0; i < a.length; i++) t += a[i]! * c[i]!;
        return t;
      };
      const checks: [string, number, number][] = [
        ['x', dot(res.gx as Float32Array, v), dot(r, referenceConv(v, xs, w, ws, undefined, o).out)],
        ['w', dot(res.gw as Float32Array, u), dot(r, referenceConv(x, xs, u, ws, undefined, o).out)],
      ];
      const hw = y.shape[2]! * y.shape[3]!;
      for (let oc = 0; oc < ws[0]!; oc++) {
        let t = 0;
        for (let i = 0; i < r.length; i++) if (Math.floor(i / hw) % ws[0]! === oc) t += r[i]!;
        checks.push([`b[${oc}]`, (res.gb as Float32Array)[oc]!, t]);
      }
      for (const [what, got, want] of checks) assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `d/d${what}: ${got} vs exact ${want}`);
    });
  }
});

describe('ConvTranspose VJPs match finite differences (float32)', () => {
  it('stride 2, asymmetric pads, output padding', () =>
    gradCheck(
      {
        inputs: [X([1, 3, 4, 3], 'x'), X([3, 2, 3, 3], 'w'), X([2], 'b')],
        build: ([xv, wv, bv]) => convTranspose(xv!, wv!, bv!, convAttrs({ stride: 2, padding: [0, 0, 1, 1] }), [1, 0]),
      },
      'float32',
    ));
  it('stride 1, padding 1', () =>
    gradCheck(
      {
        inputs: [X([2, 2, 4, 4], 'x'), X([2, 3, 3, 3], 'w')],
        build: ([xv, wv]) => convTranspose(xv!, wv!, undefined, convAttrs({ padding: 1 })),
      },
      'float32',
    ));
});

describe('Conv shape errors', () => {
  it('conv2d gives the Conv node symmetric pads and the excess to a Pad', () => {
    const g = new Graph();
    const y = conv2d(g.input('x', [1, 3, 8, 8]), g.input('w', [3, 3, 3, 3]), undefined, { stride: 2, padding: [0, 0, 1, 1] });
    assert.equal(y.producer!.attrs.pads!.toString(), '0,0,0,0');
    assert.equal(y.producer!.inputs[0]!.producer!.op, 'Pad');
    assert.deepEqual([...y.shape], [1, 3, 4, 4]);
  });

  it('names the channel mismatch', () => {
    const g = new Graph();
    assert.throws(() => conv2d(g.input('x', [1, 3, 4, 4]), g.input('w', [2, 4, 3, 3])), /weight expects 4 input channels, the input has 3/);
  });
});
