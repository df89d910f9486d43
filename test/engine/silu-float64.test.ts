// ORT fuses x·sigmoid(x) into QuickGelu, which has only a float32 kernel: a float64 SiLU must
// still build a session and compute x·σ(x), including far into either tail.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Graph } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Session } from '../../src/engine/session.ts';

it('float64 SiLU runs under ORT optimisations and matches x·σ(x)', async () => {
  const g = new Graph();
  const x = g.input('x', [6], 'float64');
  const session = await Session.create({ outputs: { y: F.silu(x) }, threads: 1 });
  const xs = Float64Array.from([-800, -3, -0.5, 0, 2, 800]);
  const y = (await session.run({ x: xs })).y as Float64Array;
  xs.forEach((v, i) => {
    const expected = v / (1 + Math.exp(-v));
    assert.ok(Math.abs(y[i]! - expected) <= 1e-15 * Math.max(1, Math.abs(expected)), `silu(${v}) = ${y[i]}`);
  });
  await session.release();
});
