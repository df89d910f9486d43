// An AE checkpoint ↔ the graph's parameters: every declared key must be in the checkpoint with
// its shape (a missing or misshapen tensor names the key), and keys the graph lacks are listed
// so a config/checkpoint mismatch is visible rather than silently ignored.

import type { TypedArray } from '../../engine/dtype.ts';
import type { Value } from '../../engine/graph.ts';
import { asDType, sameShape, type Tensors } from '../tensors.ts';

function checked(key: string, v: Value, weights: Tensors): TypedArray {
  const t = weights.get(key);
  if (!t) throw new Error(`autoencoder weights: missing '${key}' [${v.shape.join(',')}]`);
  if (!sameShape(t.shape, v.shape)) throw new Error(`autoencoder weights: '${key}' is [${t.shape.join(',')}], the model expects [${v.shape.join(',')}]`);
  return asDType(t.data, v.dtype);
}

/** Every parameter with its checkpoint tensor, for Session.create's `frozen`. */
export function frozenAeWeights(params: ReadonlyMap<string, Value>, weights: Tensors): Map<Value, TypedArray> {
  return new Map([...params].map(([key, v]) => [v, checked(key, v, weights)]));
}

/** Checkpoint keys no parameter has. */
export function unusedAeWeights(params: ReadonlyMap<string, Value>, weights: Tensors): string[] {
  return [...weights.keys()].filter((k) => !params.has(k));
}
