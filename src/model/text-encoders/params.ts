// Where the text-encoder modules get their tensors: every parameter is a graph input named by
// its Hugging Face checkpoint key (`encoder.block.0.layer.0.SelfAttention.q.weight`,
// `text_model.encoder.layers.0.self_attn.q_proj.weight`, …), so the safetensors of a diffusers
// folder map 1:1; weights are frozen into a session (inference) or fed (training) by that name.

import type { DType } from '../../engine/dtype.ts';
import type { Graph, Value } from '../../engine/graph.ts';

export class TextParamStore {
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
