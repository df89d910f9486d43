// Every op a graph can hold has a gradient rule or says why it has none, so a new op cannot be
// added without deciding what its backward pass is.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad, hasGradientRule, NON_DIFFERENTIABLE } from '../../src/engine/autodiff.ts';
import { Graph, GraphError, registeredOps } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';

describe('gradient coverage of the op registry', () => {
  it('every registered op has a rule or is declared non-differentiable, never both', () => {
    const ops = registeredOps();
    assert.ok(ops.includes('MatMul') && ops.includes('Slice'), `registry looks unloaded: ${ops.join(',')}`);
    const missing = ops.filter((op) => !hasGradientRule(op) && !NON_DIFFERENTIABLE.has(op));
    assert.deepEqual(missing, [], `ops with neither a gradient rule nor a reason for lacking one: ${missing.join(', ')}`);
    const both = ops.filter((op) => hasGradientRule(op) && NON_DIFFERENTIABLE.has(op));
    assert.deepEqual(both, [], `ops declared non-differentiable that have a rule: ${both.join(', ')}`);
  });

  it('the declarations name only registered ops', () => {
    const stale = [...NON_DIFFERENTIABLE.keys()].filter((op) => !registeredOps().includes(op));
    assert.deepEqual(stale, []);
  });

  it('differentiating through a non-differentiable op fails with its reason', () => {
    const g = new Graph();
    const u = g.input('u', [3]);
    const indices = F.tensor(g, BigInt64Array.from([0n, 2n]), [2, 1], 'int64');
    const y = F.scatterAdd([4], indices, F.slice(u, 0, 0, 2));
    assert.throws(
      () => grad(F.sumAll(y), [u]),
      (e: unknown) => e instanceof GraphError && /no gradient rule for op 'ScatterND' \(only Gather's rule emits it/.test(e.message),
    );
  });
});
