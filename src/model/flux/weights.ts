// Base weights ↔ graph parameters: checks a checkpoint against the shapes the graph declared
// and hands the tensors over either frozen (initializers) or as feeds.

import type { TypedArray } from '../../engine/dtype.ts';
import type { Value } from '../../engine/graph.ts';
import type { Feeds } from '../../engine/session.ts';
import { asDType, sameShape, type Tensors } from '../tensors.ts';

function checked(key: string, v: Value, weights: Tensors): TypedArray {
  const t = weights.get(key);
  if (!t) throw new Error(`weights: missing '${key}' [${v.shape.join(',')}]`);
  if (!sameShape(t.shape, v.shape)) {
    throw new Error(`weights: '${key}' is [${t.shape.join(',')}], the model expects [${v.shape.join(',')}]`);
  }
  return asDType(t.data, v.dtype);
}

/** The `frozen` map for Session.create: every param for which `select(key)` holds. */
export function frozenWeights(params: ReadonlyMap<string, Value>, weights: Tensors, select: (key: string) => boolean = () => true): Map<Value, TypedArray> {
  const frozen = new Map<Value, TypedArray>();
  for (const [key, v] of params) if (select(key)) frozen.set(v, checked(key, v, weights));
  return frozen;
}

/** Feeds for the params for which `select(key)` holds (trainable weights, swappable LoRAs). */
export function weightFeeds(params: ReadonlyMap<string, Value>, weights: Tensors, select: (key: string) => boolean = () => true): Feeds {
  const feeds: Feeds = {};
  for (const [key, v] of params) if (select(key)) feeds[key] = checked(key, v, weights);
  return feeds;
}

/** Keys in `weights` the graph has no parameter for: usually a config/checkpoint mismatch. */
export function unusedWeights(params: ReadonlyMap<string, Value>, weights: Tensors): string[] {
  return [...weights.keys()].filter((k) => !params.has(k));
}
