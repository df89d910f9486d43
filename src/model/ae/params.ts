// Where the autoencoder modules get their tensors: every parameter is a graph input named by its
// BFL checkpoint key (`encoder.down.0.block.0.norm1.weight`, …), so `ae.safetensors` maps 1:1 and
// one definition serves inference (weights frozen into initializers) and training (weights fed,
// gradients taken).

import type { DType } from '../../engine/dtype.ts';
import type { Graph, Value } from '../../engine/graph.ts';

export class AeParamStore {
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
}
