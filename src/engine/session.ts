// ONNX Runtime sessions over emitted graphs. A session is built once per graph shape and reused
// across steps; weights that change every step are fed as inputs, frozen ones are baked in.

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { configuredDevice, type Device, deviceSessionOptions } from './device.ts';
import type { DType, TypedArray } from './dtype.ts';
import type { Value } from './graph.ts';
import { type EmitOptions, emitModel } from './onnx.ts';

ort.env.logLevel = 'error';

export interface SessionOptions extends EmitOptions {
  /** Intra-op threads; defaults to every core. */
  threads?: number;
  /** 'all' (default) lets ORT fuse and prepack; 'disabled' runs the graph as emitted. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Overrides `device`'s providers. */
  executionProviders?: string[];
  /** cpu or cuda; default FLUXTUNE_DEVICE (device.ts). */
  device?: Device;
  /**
   * Frozen weights above this many bytes go to an ONNX external-data file in a temporary folder
   * (protobuf caps a model at 2 GB); default 1 GiB.
   */
  externalDataOver?: number;
}

const EXTERNAL_DATA_OVER = 2 ** 30;

/**
 * Process-wide ONNX Runtime settings under every session created afterwards, for benchmarks that
 * measure them (bench:breakdown) on sessions built deep inside the model; a SessionOptions field wins.
 */
export interface OrtTuning {
  threads?: number;
  optimization?: SessionOptions['optimization'];
  /** ORT's CPU memory arena (default on). */
  cpuMemArena?: boolean;
  /** ORT's memory-pattern planning (default on). */
  memPattern?: boolean;
  /** Write ORT's per-node profile to `<prefix>_<time>.json` (written at endProfiling or release). */
  profilePrefix?: string;
  /** `session.*` config entries, e.g. { disable_prepacking: '1', 'intra_op.allow_spinning': '0' }. */
  sessionConfig?: Record<string, string>;
}

let tuning: OrtTuning = {};

export function setOrtTuning(t: OrtTuning): void {
  tuning = t;
}

function frozenBytes(opts: EmitOptions): number {
  let n = 0;
  for (const d of opts.frozen?.values() ?? []) n += d.byteLength;
  return n;
}

/**
 * The model as a file with its weights beside it, loaded by path so ORT resolves the external
 * data; the folder is removed once the session holds the weights.
 */
async function createWithExternalData(opts: EmitOptions, sessionOptions: ort.InferenceSession.SessionOptions) {
  const dir = mkdtempSync(join(process.env.FLUXTUNE_TMP_DIR ?? tmpdir(), 'fluxtune-onnx-'));
  try {
    const fd = openSync(join(dir, 'weights.bin'), 'w');
    let emitted: ReturnType<typeof emitModel>;
    try {
      emitted = emitModel({ ...opts, externalData: { fd, location: 'weights.bin' } });
    } finally {
      closeSync(fd);
    }
    const path = join(dir, 'model.onnx');
    writeFileSync(path, emitted.bytes);
    const session = await ort.InferenceSession.create(path, sessionOptions);
    return { session, emitted };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    /** The graph's outputs by name (their shapes and types, for outputs written into the caller's buffers). */
    private readonly outputValues: ReadonlyMap<string, Value>,
  ) {}

  static async create(opts: SessionOptions): Promise<Session> {
    const device = opts.device ?? configuredDevice();
    try {
      return await Session.open(opts, device);
    } catch (err) {
      if (device !== 'cuda' || opts.executionProviders) throw err;
      throw new Error(
        `FLUXTUNE_DEVICE=cuda: ONNX Runtime could not run this graph on its CUDA provider (${(err as Error).message}). ` +
          'The CUDA provider needs the CUDA build of onnxruntime-node (npm install onnxruntime-node --onnxruntime-node-install=cuda12, with internet), ' +
          'an NVIDIA driver and CUDA 12 / cuDNN 9 libraries; CPU fallback is disabled on purpose (FLUXTUNE_CUDA_CPU_FALLBACK=1 allows it for nodes the CUDA provider lacks).',
        { cause: err },
      );
    }
  }

  private static async open(opts: SessionOptions, deviceName: Device): Promise<Session> {
    const device = deviceSessionOptions(deviceName);
    const deviceExtra = device.extra && !opts.executionProviders ? (device.extra as { session?: Record<string, string> }) : undefined;
    const extra = tuning.sessionConfig ? { ...deviceExtra, session: { ...deviceExtra?.session, ...tuning.sessionConfig } } : deviceExtra;
    const sessionOptions = {
      intraOpNumThreads: opts.threads ?? tuning.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: opts.optimization ?? tuning.optimization ?? 'all',
      executionProviders: (opts.executionProviders ?? device.executionProviders) as ort.InferenceSession.ExecutionProviderConfig[],
      ...(tuning.cpuMemArena === false ? { enableCpuMemArena: false } : {}),
      ...(tuning.memPattern === false ? { enableMemPattern: false } : {}),
      ...(tuning.profilePrefix ? { enableProfiling: true, profileFilePrefix: tuning.profilePrefix } : {}),
      ...(extra ? { extra } : {}),
    } satisfies ort.InferenceSession.SessionOptions;
    const outputValues = new Map(Object.entries(opts.outputs));
    if (frozenBytes(opts) > (opts.externalDataOver ?? EXTERNAL_DATA_OVER)) {
      const { session, emitted } = await createWithExternalData(opts, sessionOptions);
      const { inputs, outputNames, bytes, externalBytes } = emitted;
      return new Session(session, new Map(inputs.map((v) => [v.name, v])), outputNames, bytes.byteLength + externalBytes, outputValues);
    }
    const { bytes, inputs, outputNames } = emitModel(opts);
    const session = await ort.InferenceSession.create(bytes, sessionOptions);
    return new Session(session, new Map(inputs.map((v) => [v.name, v])), outputNames, bytes.byteLength, outputValues);
  }

  /**
   * Runs the graph. `into` names outputs that ORT writes into the given arrays (exactly their
   * size) instead of new ones: AdamW has the gradients written straight into its WebAssembly memory.
   */
  async run(feeds: Feeds, outputs?: readonly string[], into?: Readonly<Record<string, TypedArray>>): Promise<Results> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, v] of this.inputs) {
      const data = feeds[name];
      if (!data) throw new Error(`missing feed '${name}' (${v.toString()})`);
      if (data.length !== v.size) throw new Error(`feed '${name}': ${data.length} values for ${v.toString()}`);
      ortFeeds[name] = new ort.Tensor(ORT_TYPE[v.dtype], data as never, v.shape as number[]);
    }
    if (into) {
      const fetches: Record<string, ort.Tensor | null> = {};
      for (const name of outputs ?? this.outputNames) fetches[name] = null;
      for (const [name, data] of Object.entries(into)) {
        const v = this.outputValues.get(name);
        if (!v) throw new Error(`no output '${name}' to write into`);
        if (data.length !== v.size) throw new Error(`output '${name}': ${data.length} values for ${v.toString()}`);
        fetches[name] = new ort.Tensor(ORT_TYPE[v.dtype], data as never, v.shape as number[]);
      }
      const out = await this.session.run(ortFeeds, fetches);
      const results: Results = {};
      for (const [name, t] of Object.entries(out)) results[name] = into[name] ?? (t.data as TypedArray);
      return results;
    }
    const out = outputs ? await this.session.run(ortFeeds, [...outputs]) : await this.session.run(ortFeeds);
    const results: Results = {};
    for (const [name, t] of Object.entries(out)) results[name] = t.data as TypedArray;
    return results;
  }

  /** Ends ORT's profile (see OrtTuning.profilePrefix) and writes its file. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
