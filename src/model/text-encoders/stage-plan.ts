// How T5 splits into sessions. ONNX models are protobufs, limited to 2 GB with weights inside,
// and T5 v1.1 XXL is 4.76 B parameters (19 GB in float32): each stage holds as many whole blocks
// as fit under `maxStageBytes` (one XXL block is 193 M parameters, 772 MB in float32), the first
// also the embedding. Small models are one stage.

import type { DType } from '../../engine/dtype.ts';
import { Graph } from '../../engine/graph.ts';
import type { T5Config } from './config.ts';
import { TextParamStore } from './params.ts';
import { T5Block } from './t5-block.ts';
import type { BlockRange } from './t5-stack.ts';

export const DEFAULT_MAX_STAGE_BYTES = 1.5 * 2 ** 30;

const BYTES: Partial<Record<DType, number>> = { float32: 4, float64: 8 };

function blockParams(config: T5Config): number {
  const store = new TextParamStore(new Graph(), 'float32');
  new T5Block(store, 'block', config, false);
  return store.count();
}

export function planT5Stages(config: T5Config, dtype: DType, maxStageBytes = DEFAULT_MAX_STAGE_BYTES): BlockRange[] {
  const bytes = BYTES[dtype];
  if (!bytes) throw new Error(`T5 stages: no size for ${dtype}`);
  const block = blockParams(config) * bytes;
  const embedding = config.vocab_size * config.d_model * bytes;
  const stages: BlockRange[] = [];
  let start = 0;
  let used = embedding;
  for (let i = 0; i < config.num_layers; i++) {
    if (i > start && used + block > maxStageBytes) {
      stages.push({ start, end: i });
      start = i;
      used = 0;
    }
    used += block;
  }
  stages.push({ start, end: config.num_layers });
  return stages;
}
