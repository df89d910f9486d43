// T5 encoder sessions with the weights frozen in, one per stage (stage-plan.ts), each built for
// batch 1 at a fixed length: frozen weights live in every session that holds them, so one batch
// size keeps one copy; rows run one after the other. A stage's weights are read from the source
// just before its session is made and dropped after (ORT keeps its own copy).

import type { DType } from '../../engine/dtype.ts';
import { Session } from '../../engine/session.ts';
import type { FloatArray } from '../tensors.ts';
import { buildT5Graph, TEXT_IO, type TextGraph } from './build.ts';
import type { T5Config } from './config.ts';
import { DEFAULT_MAX_STAGE_BYTES, planT5Stages } from './stage-plan.ts';
import type { BlockRange } from './t5-stack.ts';
import { frozenTextWeights, refuseUnused, type WeightSource } from './weights.ts';

export interface T5RunnerOptions {
  config: T5Config;
  weights: WeightSource;
  /** Token count per row (FLUX.1-dev 512, schnell 256). */
  length: number;
  dtype?: DType;
  threads?: number;
  maxStageBytes?: number;
  executionProviders?: string[];
}

/** Row-major ids [rows, length] as int64, checked against the length and the vocabulary. */
export function idRows(rows: readonly (readonly number[])[], length: number, vocab: number, what: string): BigInt64Array[] {
  return rows.map((row, r) => {
    if (row.length !== length) throw new Error(`${what}: row ${r} has ${row.length} ids, the session takes ${length}`);
    return BigInt64Array.from(row, (id) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new Error(`${what}: id ${id} in row ${r} is outside the vocabulary (0..${vocab - 1})`);
      return BigInt(id);
    });
  });
}

export class T5EncoderRunner {
  private constructor(
    readonly config: T5Config,
    readonly length: number,
    readonly stages: readonly BlockRange[],
    private readonly graphs: readonly TextGraph[],
    private readonly sessions: readonly Session[],
  ) {}

  static async create(o: T5RunnerOptions): Promise<T5EncoderRunner> {
    const dtype = o.dtype ?? 'float32';
    const stages = planT5Stages(o.config, dtype, o.maxStageBytes ?? DEFAULT_MAX_STAGE_BYTES);
    const graphs = stages.map((range) => buildT5Graph(o.config, { batch: 1, length: o.length }, { dtype, range }));
    refuseUnused(
      graphs.flatMap((g) => [...g.store.params.keys()]),
      o.weights,
      'T5',
    );
    const sessions: Session[] = [];
    try {
      for (const g of graphs) {
        const frozen = frozenTextWeights(g.store.params, o.weights, 'T5');
        sessions.push(await Session.create({ outputs: g.outputs, frozen, threads: o.threads, executionProviders: o.executionProviders }));
      }
    } catch (e) {
      await Promise.all(sessions.map((s) => s.release()));
      throw e;
    }
    return new T5EncoderRunner(o.config, o.length, stages, graphs, sessions);
  }

  /** ids rows [B][length] → last_hidden_state [B, length, d_model], row-major. */
  async forward(rows: readonly (readonly number[])[]): Promise<FloatArray> {
    const d = this.config.d_model;
    const ids = idRows(rows, this.length, this.config.vocab_size, 'T5');
    const out = this.graphs[0]!.dtype === 'float64' ? new Float64Array(rows.length * this.length * d) : new Float32Array(rows.length * this.length * d);
    for (const [r, row] of ids.entries()) {
      let feed: Record<string, BigInt64Array | FloatArray> = { [TEXT_IO.inputIds]: row };
      let hidden: FloatArray | undefined;
      for (const [i, session] of this.sessions.entries()) {
        const name = Object.keys(this.graphs[i]!.outputs)[0]!;
        hidden = (await session.run(feed))[name] as FloatArray;
        feed = { [TEXT_IO.hiddenStates]: hidden };
      }
      out.set(hidden!, r * this.length * d);
    }
    return out;
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
