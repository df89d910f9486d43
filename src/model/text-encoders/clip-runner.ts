// The CLIP text model as one session with the weights frozen in (CLIP-L is 123 M parameters,
// 492 MB in float32: one protobuf), batch 1 at max_position_embeddings tokens; rows run in turn.

import type { DType } from '../../engine/dtype.ts';
import { Session } from '../../engine/session.ts';
import type { FloatArray } from '../tensors.ts';
import { buildClipGraph, TEXT_IO, type TextGraph } from './build.ts';
import type { ClipTextConfig } from './config.ts';
import { idRows } from './t5-runner.ts';
import { frozenTextWeights, refuseUnused, type WeightSource } from './weights.ts';

export interface ClipRunnerOptions {
  config: ClipTextConfig;
  weights: WeightSource;
  /** Defaults to max_position_embeddings (77), what FLUX pads to. */
  length?: number;
  dtype?: DType;
  threads?: number;
  executionProviders?: string[];
}

export interface ClipForward {
  /** [B, length, hidden] after final_layer_norm. */
  lastHiddenState: FloatArray;
  /** [B, hidden]: FLUX's `y`. */
  pooledOutput: FloatArray;
}

export class ClipTextRunner {
  private constructor(
    readonly config: ClipTextConfig,
    readonly length: number,
    private readonly g: TextGraph,
    private readonly session: Session,
  ) {}

  static async create(o: ClipRunnerOptions): Promise<ClipTextRunner> {
    const length = o.length ?? o.config.max_position_embeddings;
    const g = buildClipGraph(o.config, { batch: 1, length }, { dtype: o.dtype });
    refuseUnused(g.store.params.keys(), o.weights, 'CLIP');
    const session = await Session.create({
      outputs: g.outputs,
      frozen: frozenTextWeights(g.store.params, o.weights, 'CLIP'),
      threads: o.threads,
      executionProviders: o.executionProviders,
    });
    return new ClipTextRunner(o.config, length, g, session);
  }

  async forward(rows: readonly (readonly number[])[]): Promise<ClipForward> {
    const d = this.config.hidden_size;
    const make = (n: number) => (this.g.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));
    const lastHiddenState = make(rows.length * this.length * d);
    const pooledOutput = make(rows.length * d);
    for (const [r, ids] of idRows(rows, this.length, this.config.vocab_size, 'CLIP').entries()) {
      const res = await this.session.run({ [TEXT_IO.inputIds]: ids });
      lastHiddenState.set(res[TEXT_IO.lastHiddenState] as FloatArray, r * this.length * d);
      pooledOutput.set(res[TEXT_IO.pooledOutput] as FloatArray, r * d);
    }
    return { lastHiddenState, pooledOutput };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
