// Where a module gets its tensors: every parameter is a graph input named by its checkpoint key, so
// a checkpoint maps 1:1 and one definition serves inference (weights frozen into initializers) and
// training (weights fed, gradients taken). The autoencoder (BFL keys) and the text encoders (Hugging
// Face keys) declare theirs here.

import type { DType } from '../engine/dtype.ts';
import type { Graph, Value } from '../engine/graph.ts';

export class ParamStore {
  readonly params = new Map<string, Value>();

  constructor(
    readonly graph: Graph,
    readonly dtype: DType,
  ) {}

  /** Declares a parameter; a key declared twice is a model bug and throws (Graph.input). */
  param(key: string, shape: readonly number[]): Value {
    const v = this.graph.input(key, shape, this.dtype);
    this.params.set(key, v);
    return v;
  }

  /** Every parameter's shape by key: what a checkpoint for this config must hold. */
  shapes(): Map<string, readonly number[]> {
    return new Map([...this.params].map(([k, v]) => [k, v.shape]));
  }

  /** Total parameter count (declaring allocates nothing, so this is free at any size). */
  count(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }
}
