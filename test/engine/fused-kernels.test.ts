// ONNX Runtime's fused kernels that ops.ts emits for float32 (SimplifiedLayerNormalization for
// RMSNorm, RotaryEmbedding): their VJP rules against finite differences, and their outputs and
// gradients against the float64 formulas they replace.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.ts';
import type { DType } from '../../src/engine/dtype.ts';
import { Graph, type Value } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';
import { gradCheck } from './gradcheck.ts';

const X = (shape: number[], name = 'x') => ({ name, shape });

/** Rotation tables for `rows` positions of `half` pairs, as RotaryEmbedding reads them. */
function tables(rows: number, half: number): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(rows * half);
  const sin = new Float32Array(rows * half);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < half; j++) {
      const phi = (r + 1) * 0.37 * (j + 1);
      cos[r * half + j] = Math.cos(phi);
      sin[r * half + j] = Math.sin(phi);
    }
  return { cos, sin };
}

/** The interleaved rotation as a formula (what rope.ts writes for float64). */
function rotateFormula(x: Value, cos: Value, sin: Value): Value {
  const D = x.shape[x.rank - 1]!;
  const pairs = F.reshape(x, [...x.shape.slice(0, -1), D / 2, 2]);
  const [even, odd] = F.split(pairs, [1, 1], -1) as [Value, Value];
  const c = F.unsqueeze(cos, -1);
  const s = F.unsqueeze(sin, -1);
  return F.reshape(F.concat([F.sub(F.mul(even, c), F.mul(odd, s)), F.add(F.mul(even, s), F.mul(odd, c))], -1), x.shape);
}

const [B, S, HEADS, D] = [2, 3, 2, 8];

function rotaryGraph(g: Graph, x: Value, dtype: DType, fused: boolean): Value {
  const t = tables(B * S, D / 2);
  const positions = F.tensor(
    g,
    BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i)),
    [B, S],
    'int64',
  );
  const as = (a: Float32Array) => (dtype === 'float64' ? Float64Array.from(a) : a);
  if (fused) {
    const cos = F.tensor(g, t.cos, [B * S, D / 2]);
    const sin = F.tensor(g, t.sin, [B * S, D / 2]);
    return F.rotaryEmbedding(x, positions, cos, sin, HEADS);
  }
  // [B, S, heads, D/2] views of the same tables
  const view = (a: Float32Array) => F.expand(F.tensor(g, as(a), [B, S, 1, D / 2], dtype), [B, S, HEADS, D / 2]);
  return F.reshape(rotateFormula(F.reshape(x, [B, S, HEADS, D]), view(t.cos), view(t.sin)), [B, S, HEADS * D]);
}

/** Output and input gradients of Σ f(x)·R, for given inputs. */
async function evaluate(dtype: DType, inputs: { name: string; shape: number[] }[], build: (xs: Value[], g: Graph) => Value, values: Float64Array[]) {
  const g = new Graph();
  const xs = inputs.map((i) => g.input(i.name, i.shape, dtype));
  const out = build(xs, g);
  const r = new Rng(9).fillNormal(new Float64Array(out.size));
  const loss = F.sumAll(F.mul(out, F.tensor(g, dtype === 'float64' ? r : Float32Array.from(r), out.shape, dtype)));
  const outputs: Record<string, Value> = { out };
  grad(loss, xs).forEach((gv, i) => {
    outputs[`g${i}`] = gv;
  });
  const session = await Session.create({ outputs, threads: 1 });
  const feeds = Object.fromEntries(inputs.map((inp, i) => [inp.name, dtype === 'float64' ? values[i]! : Float32Array.from(values[i]!)]));
  const res = await session.run(feeds);
  await session.release();
  return res;
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

describe('fused float32 kernels', () => {
  it('RMSNorm (SimplifiedLayerNormalization) matches finite differences', () =>
    gradCheck({ inputs: [X([2, 3, 16]), X([16], 's')], build: ([x, s]) => F.rmsNorm(x!, s!, 1e-6) }, 'float32'));

  it('RotaryEmbedding matches finite differences', () =>
    gradCheck({ inputs: [X([B, S, HEADS * D])], build: ([x], g) => rotaryGraph(g, x!, 'float32', true) }, 'float32'));

  it('RMSNorm kernel: output and gradients equal the float64 formula to float32 rounding', async () => {
    const rng = new Rng(3);
    const values = [rng.fillNormal(new Float64Array(2 * 3 * 16)), rng.fillUniform(new Float64Array(16), 0.5, 1.5)];
    const inputs = [X([2, 3, 16]), X([16], 's')];
    const build = ([x, s]: Value[]) => F.rmsNorm(x!, s!, 1e-6);
    const [k, ref] = [await evaluate('float32', inputs, build, values), await evaluate('float64', inputs, build, values)];
    const probe = new Graph();
    assert.equal(F.rmsNorm(probe.input('x', [4, 8]), probe.input('s', [8])).producer!.op, 'SimplifiedLayerNormalization');
    for (const key of ['out', 'g0', 'g1']) assert.ok(maxRelErr(k[key] as Float32Array, ref[key] as Float64Array) < 1e-5, key);
  });

  it('RotaryEmbedding kernel: output and gradient equal the float64 formula to float32 rounding', async () => {
    const values = [new Rng(4).fillNormal(new Float64Array(B * S * HEADS * D))];
    const inputs = [X([B, S, HEADS * D])];
    const kernel = await evaluate('float32', inputs, ([x], g) => rotaryGraph(g, x!, 'float32', true), values);
    const formula = await evaluate('float64', inputs, ([x], g) => rotaryGraph(g, x!, 'float64', false), values);
    for (const key of ['out', 'g0']) assert.ok(maxRelErr(kernel[key] as Float32Array, formula[key] as Float64Array) < 1e-5, key);
  });
});
