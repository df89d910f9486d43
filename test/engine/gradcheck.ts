// Gradient checking against central finite differences. For each input x_i we compare the analytic
// directional derivative <dL/dx_i, v_i> with (L(x + h·v_i) − L(x − h·v_i)) / 2h along a random v_i,
// where L = Σ out ⊙ R with a fixed random R, so every output element and every input entry matters.

import assert from 'node:assert/strict';
import { grad } from '../../src/engine/autodiff.ts';
import type { DType } from '../../src/engine/dtype.ts';
import { Graph, type Value } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';

type Floats = Float32Array | Float64Array;

export interface GradCase {
  /** Declared inputs with optional value ranges (e.g. positive for log). */
  inputs: { name: string; shape: number[]; lo?: number; hi?: number }[];
  build: (xs: Value[], g: Graph) => Value;
}

function alloc(dtype: DType, n: number): Floats {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

export async function gradCheck(c: GradCase, dtype: DType = 'float64', seed = 1): Promise<void> {
  const rng = new Rng(seed);
  const g = new Graph();
  const xs = c.inputs.map((i) => g.input(i.name, i.shape, dtype));
  const out = c.build(xs, g);
  const r = rng.fillNormal(alloc(dtype, out.size));
  const loss = F.sumAll(F.mul(out, F.tensor(g, r, out.shape, dtype)));
  const grads = grad(loss, xs);
  const outputs: Record<string, Value> = { loss };
  grads.forEach((gv, i) => {
    outputs[`grad_${i}`] = gv;
  });
  const session = await Session.create({ outputs });
  const feeds: Record<string, Floats> = {};
  c.inputs.forEach((i, k) => {
    feeds[i.name] = rng.fillUniform(alloc(dtype, xs[k]!.size), i.lo ?? -1.5, i.hi ?? 1.5);
  });
  const base = await session.run(feeds);

  const h = dtype === 'float64' ? 1e-6 : 1e-2;
  const tol = dtype === 'float64' ? 1e-6 : 2e-2;
  for (let k = 0; k < xs.length; k++) {
    const name = c.inputs[k]!.name;
    const x0 = feeds[name]!;
    const v = rng.fillNormal(alloc(dtype, x0.length));
    const gk = base[`grad_${k}`] as Floats;
    assert.equal(gk.length, x0.length, `gradient of ${name} has the input's size`);
    let analytic = 0;
    for (let i = 0; i < v.length; i++) analytic += gk[i]! * v[i]!;
    const shifted = async (sign: number) => {
      const x = alloc(dtype, x0.length);
      for (let i = 0; i < x.length; i++) x[i] = x0[i]! + sign * h * v[i]!;
      const res = await session.run({ ...feeds, [name]: x }, ['loss']);
      return Number((res.loss as Floats)[0]);
    };
    const numeric = ((await shifted(1)) - (await shifted(-1))) / (2 * h);
    const scale = Math.max(1, Math.abs(numeric), Math.abs(analytic));
    assert.ok(Math.abs(analytic - numeric) <= tol * scale, `d/d${name}: analytic ${analytic} vs finite difference ${numeric} (${dtype})`);
  }
  await session.release();
}
