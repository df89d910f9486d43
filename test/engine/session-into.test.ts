import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Graph } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Session } from '../../src/engine/session.ts';

it("writes named outputs into the caller's arrays, the others as usual, and refuses a wrong size", async () => {
  const g = new Graph();
  const x = g.input('x', [4], 'float32');
  const session = await Session.create({ outputs: { sq: F.mul(x, x), twice: F.add(x, x) }, threads: 1 });
  const slot = new Float32Array(new ArrayBuffer(64), 16, 4);
  const out = await session.run({ x: Float32Array.of(1, 2, 3, -4) }, undefined, { sq: slot });
  assert.equal(out.sq, slot);
  assert.deepEqual(Array.from(slot), [1, 4, 9, 16]);
  assert.deepEqual(Array.from(out.twice as Float32Array), [2, 4, 6, -8]);
  await assert.rejects(session.run({ x: new Float32Array(4) }, undefined, { sq: new Float32Array(3) }), /3 values/);
  await assert.rejects(session.run({ x: new Float32Array(4) }, undefined, { nope: new Float32Array(4) }), /no output 'nope'/);
  await session.release();
});
