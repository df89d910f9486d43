// T5Stack as the encoder (`encoder.*`): embed_tokens (tied to the model's `shared`), the blocks,
// each pre-norm with residuals, the position bias computed once by block 0 and shared by all
// ("We share the position biases between the layers - the first layer store them"), then
// final_layer_norm. Dropout is identity at inference.
//
// A stack may be built for a range of blocks, so a model too large for one ONNX protobuf (2 GB;
// T5-XXL is 19 GB in float32) runs as a chain of sessions: a range that does not start at 0 takes
// hidden states in and still declares block 0's bias table (2,048 values) to compute the bias
// itself; only the range that ends at num_layers applies final_layer_norm.

import type { Value } from '../../engine/graph.ts';
import type { T5Config } from './config.ts';
import type { TextParamStore } from './params.ts';
import { computePositionBias } from './t5-attention.ts';
import { T5Block } from './t5-block.ts';
import { T5LayerNorm } from './t5-layer-norm.ts';

export interface BlockRange {
  start: number;
  end: number;
}

/** Block 0's bias table key: the one relative_attention_bias of the encoder. */
export const T5_BIAS_TABLE = 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';

export class T5Stack {
  readonly blocks: T5Block[] = [];
  readonly finalLayerNorm: T5LayerNorm | undefined;
  private readonly biasTable: Value;

  constructor(
    store: TextParamStore,
    path: string,
    readonly config: T5Config,
    readonly range: BlockRange = { start: 0, end: config.num_layers },
  ) {
    const { start, end } = range;
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= config.num_layers)) {
      throw new Error(`T5Stack: block range [${start}, ${end}) is not within 0..${config.num_layers}`);
    }
    for (let i = start; i < end; i++) this.blocks.push(new T5Block(store, `${path}.block.${i}`, config, i === 0));
    const own = start === 0 ? this.blocks[0]!.selfAttention.selfAttention.relativeAttentionBias : undefined;
    this.biasTable = own ?? store.param(T5_BIAS_TABLE, [config.relative_attention_num_buckets, config.num_heads]);
    this.finalLayerNorm = end === config.num_layers ? new T5LayerNorm(store, `${path}.final_layer_norm`, config.d_model, config.layer_norm_epsilon) : undefined;
  }

  /** hidden [B, L, d_model] (token embeddings when the range starts at 0) → the range's output. */
  forward(hidden: Value): Value {
    const bias = computePositionBias(this.biasTable, hidden.shape[1]!, this.config);
    let x = hidden;
    this.blocks.forEach((b, i) => {
      x = hidden.graph.scope(`block.${this.range.start + i}`, () => b.forward(x, bias));
    });
    return this.finalLayerNorm ? this.finalLayerNorm.forward(x) : x;
  }
}
