// ONNX Runtime sessions over emitted graphs. A session is built once per graph shape and reused
// across steps; weights that change every step are fed as inputs, frozen ones are baked in.

import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { DType, TypedArray } from './dtype.ts';
import type { Value } from './graph.ts';
import { type EmitOptions, emitModel } from './onnx.ts';

ort.env.logLevel = 'error';

export interface SessionOptions extends EmitOptions {
  /** Intra-op threads; defaults to every core. */
  threads?: number;
  /** 'all' (default) lets ORT fuse and prepack; 'disabled' runs the graph as emitted. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  executionProviders?: string[];
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
};

export type Feeds = Record<string, TypedArray>;
export type Results = Record<string, TypedArray>;

export class Session {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** The inputs to feed on every run, by name. */
    readonly inputs: ReadonlyMap<string, Value>,
    readonly outputNames: readonly string[],
    readonly modelBytes: number,
  ) {}

  static async create(opts: SessionOptions): Promise<Session> {
    const { bytes, inputs, outputNames } = emitModel(opts);
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: opts.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: opts.optimization ?? 'all',
      executionProviders: opts.executionProviders ?? ['cpu'],
    });
    return new Session(session, new Map(inputs.map((v) => [v.name, v])), outputNames, bytes.byteLength);
  }

  async run(feeds: Feeds, outputs?: readonly string[]): Promise<Results> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, v] of this.inputs) {
      const data = feeds[name];
      if (!data) throw new Error(`missing feed '${name}' (${v.toString()})`);
      if (data.length !== v.size) throw new Error(`feed '${name}': ${data.length} values for ${v.toString()}`);
      ortFeeds[name] = new ort.Tensor(ORT_TYPE[v.dtype], data as never, v.shape as number[]);
    }
    const out = outputs ? await this.session.run(ortFeeds, [...outputs]) : await this.session.run(ortFeeds);
    const results: Results = {};
    for (const [name, t] of Object.entries(out)) results[name] = t.data as TypedArray;
    return results;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
