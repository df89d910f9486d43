// Graphs of the two encoders for one static (batch, length). T5 may be built for a range of
// blocks (a stage of a chain of sessions, see t5-stack.ts): the first stage takes `input_ids`,
// later ones `hidden_states`; the last one outputs `last_hidden_state`. CLIP is one graph with
// `last_hidden_state` and `pooler_output`.

import type { DType } from '../../engine/dtype.ts';
import { Graph, type Value } from '../../engine/graph.ts';
import { ClipTextModel } from './clip-text-model.ts';
import type { ClipTextConfig, T5Config } from './config.ts';
import { TextParamStore } from './params.ts';
import { T5EncoderModel } from './t5-encoder-model.ts';
import type { BlockRange } from './t5-stack.ts';

export const TEXT_IO = {
  inputIds: 'input_ids',
  hiddenStates: 'hidden_states',
  hiddenStatesOut: 'hidden_states_out',
  lastHiddenState: 'last_hidden_state',
  pooledOutput: 'pooler_output',
} as const;

export interface TextShape {
  batch: number;
  length: number;
}

export interface TextGraph {
  graph: Graph;
  store: TextParamStore;
  dtype: DType;
  shape: TextShape;
  /** The fed data input (ids, or hidden states for a later T5 stage). */
  input: Value;
  outputs: Record<string, Value>;
}

/**
 * T5 v1.1 overflows float16 (activations past 65504 in the FFN of the XXL model; HF keeps `wo`
 * in float32 and clamps), and the engine has no bfloat16: T5 graphs are float32 or float64.
 */
function t5DType(dtype: DType): DType {
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new Error(`T5 encoder: ${dtype} graphs are not supported (T5 v1.1 overflows float16; use float32, or bfloat16 where a provider has it)`);
  return dtype;
}

export function buildT5Graph(config: T5Config, shape: TextShape, o: { dtype?: DType; range?: BlockRange } = {}): TextGraph {
  const dtype = t5DType(o.dtype ?? 'float32');
  const graph = new Graph();
  const store = new TextParamStore(graph, dtype);
  const model = new T5EncoderModel(store, config, o.range);
  const { start, end } = model.encoder.range;
  const input =
    start === 0
      ? graph.input(TEXT_IO.inputIds, [shape.batch, shape.length], 'int64')
      : graph.input(TEXT_IO.hiddenStates, [shape.batch, shape.length, config.d_model], dtype);
  const hidden = start === 0 ? model.embed(input) : input;
  const out = graph.scope('encoder', () => model.encoder.forward(hidden));
  const name = end === config.num_layers ? TEXT_IO.lastHiddenState : TEXT_IO.hiddenStatesOut;
  return { graph, store, dtype, shape, input, outputs: { [name]: out } };
}

export function buildClipGraph(config: ClipTextConfig, shape: TextShape, o: { dtype?: DType } = {}): TextGraph {
  const dtype = o.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`CLIP text model: ${dtype} graphs are not supported (float32 or float64)`);
  const graph = new Graph();
  const store = new TextParamStore(graph, dtype);
  const model = new ClipTextModel(store, config);
  const input = graph.input(TEXT_IO.inputIds, [shape.batch, shape.length], 'int64');
  const { lastHiddenState, pooledOutput } = model.forward(input);
  return { graph, store, dtype, shape, input, outputs: { [TEXT_IO.lastHiddenState]: lastHiddenState, [TEXT_IO.pooledOutput]: pooledOutput } };
}
