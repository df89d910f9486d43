import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.ts';
import { Graph, GraphError } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';

describe('invalid graphs fail with a message naming the node', () => {
  it('shape mismatch in MatMul', () => {
    const g = new Graph();
    const a = g.input('a', [2, 3]);
    const b = g.input('b', [4, 5]);
    assert.throws(
      () => g.scope('encoder', () => F.matmul(a, b)),
      (e: unknown) => e instanceof GraphError && /node 'encoder\/MatMul_\d+' \(MatMul\): inner dimensions differ: 3 vs 4/.test(e.message),
    );
  });

  it('broadcast mismatch in Add', () => {
    const g = new Graph();
    assert.throws(
      () => F.add(g.input('a', [2, 3]), g.input('b', [4])),
      (e: unknown) => e instanceof GraphError && /node 'Add_\d+' \(Add\): shapes \[2,3\] and \[4\] do not broadcast/.test(e.message),
    );
  });

  it('unknown op', () => {
    const g = new Graph();
    const a = g.input('a', [2]);
    assert.throws(() => g.apply('FancyOp', [a]), /node 'FancyOp_\d+': unknown op 'FancyOp'/);
  });

  it('bad reshape', () => {
    const g = new Graph();
    assert.throws(() => F.reshape(g.input('a', [2, 3]), [4, -1]), /node 'Reshape_\d+' \(Reshape\): cannot reshape \[2,3\]/);
  });

  it('mixing graphs', () => {
    const a = new Graph().input('a', [2]);
    const b = new Graph().input('b', [2]);
    assert.throws(() => F.add(a, b), /belongs to another graph/);
  });

  it('non-scalar loss without a seed', () => {
    const g = new Graph();
    const a = g.input('a', [2]);
    assert.throws(() => grad(F.exp(a), [a]), /is not a scalar/);
  });

  it('only requested gradients are built', () => {
    const g = new Graph();
    const a = g.input('a', [3]);
    const b = g.input('b', [3]);
    const before = g.nodes.length;
    const loss = F.sumAll(F.mul(F.exp(a), b));
    const afterForward = g.nodes.length;
    grad(loss, [b]);
    // d/db needs only exp(a) (already built) times the broadcast seed: no Exp/Mul chain for a.
    const backward = g.nodes.slice(afterForward).map((n) => n.op);
    assert.ok(afterForward > before);
    assert.ok(!backward.includes('Exp'), `unexpected ops in backward: ${backward.join(',')}`);
  });
});
