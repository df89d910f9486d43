// A Hugging Face component folder's safetensors, read one tensor at a time: the folder's
// `model.safetensors.index.json` (diffusers' sharded `text_encoder_2/`: weight_map key → shard)
// or else every `*.safetensors` in it. Only headers are read up front; a tensor's bytes are read
// with positioned reads straight into the array that is returned (F32 and F64 need no other copy;
// F16/BF16 widen from one Uint16Array), so shards over Node's 2–4 GiB buffer limit are fine.

import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { bf16ToF32, f16ToF32, type StDType } from '../../engine/safetensors.ts';
import type { FloatArray } from '../tensors.ts';

interface Entry {
  file: string;
  dtype: StDType;
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  offset: number;
  bytes: number;
}

const BYTES: Partial<Record<StDType, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
/** One positioned read at most this long (readSync takes < 2 GiB). */
const CHUNK = 1 << 30;

function readExactly(fd: number, target: Uint8Array, position: number, file: string): void {
  for (let done = 0; done < target.byteLength; ) {
    const n = readSync(fd, target, done, Math.min(CHUNK, target.byteLength - done), position + done);
    if (n <= 0) throw new Error(`safetensors: ${file} ends early`);
    done += n;
  }
}

function readHeader(path: string): Map<string, Entry> {
  const fd = openSync(path, 'r');
  try {
    const len = new Uint8Array(8);
    readExactly(fd, len, 0, path);
    const headerLen = Number(new DataView(len.buffer).getBigUint64(0, true));
    const json = new Uint8Array(headerLen);
    readExactly(fd, json, 8, path);
    const header = JSON.parse(new TextDecoder().decode(json)) as Record<string, { dtype: StDType; shape: number[]; data_offsets: [number, number] }>;
    const out = new Map<string, Entry>();
    for (const [key, e] of Object.entries(header)) {
      if (key === '__metadata__') continue;
      const [start, end] = e.data_offsets;
      out.set(key, { file: path, dtype: e.dtype, shape: e.shape, offset: 8 + headerLen + start, bytes: end - start });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

export class CheckpointFiles {
  private constructor(
    readonly dir: string,
    private readonly entries: Map<string, Entry>,
  ) {}

  static open(dir: string): CheckpointFiles {
    const index = join(dir, 'model.safetensors.index.json');
    let files: string[];
    if (existsSync(index)) {
      const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map;
      if (!map) throw new Error(`${index}: no weight_map`);
      files = [...new Set(Object.values(map))].map((f) => join(dir, f));
    } else {
      files = readdirSync(dir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()
        .map((f) => join(dir, f));
    }
    if (!files.length) throw new Error(`${dir}: no safetensors files (model.safetensors or a model.safetensors.index.json with its shards)`);
    const entries = new Map<string, Entry>();
    for (const f of files) {
      if (!existsSync(f)) throw new Error(`${dir}: the index names ${f}, which is missing`);
      for (const [k, e] of readHeader(f)) {
        if (entries.has(k)) throw new Error(`${dir}: '${k}' is in both ${entries.get(k)!.file} and ${f}`);
        entries.set(k, e);
      }
    }
    return new CheckpointFiles(dir, entries);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  shape(key: string): number[] | undefined {
    return this.entries.get(key)?.shape;
  }

  dtype(key: string): StDType | undefined {
    return this.entries.get(key)?.dtype;
  }

  /** The tensor as float32 (or float64 when stored as F64 and `keepF64`). */
  read(key: string, keepF64 = false): FloatArray {
    const e = this.entries.get(key);
    if (!e) throw new Error(`${this.dir}: no tensor '${key}'`);
    const size = BYTES[e.dtype];
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (!size) throw new Error(`${this.dir}: '${key}' is ${e.dtype}, not a float type`);
    if (n * size !== e.bytes) throw new Error(`${this.dir}: '${key}' has inconsistent offsets`);
    const out = e.dtype === 'F32' ? new Float32Array(n) : e.dtype === 'F64' ? new Float64Array(n) : new Uint16Array(n);
    const fd = openSync(e.file, 'r');
    try {
      readExactly(fd, new Uint8Array(out.buffer), e.offset, e.file);
    } finally {
      closeSync(fd);
    }
    if (out instanceof Uint16Array) return e.dtype === 'F16' ? f16ToF32(out) : bf16ToF32(out);
    if (out instanceof Float64Array && !keepF64) return Float32Array.from(out);
    return out;
  }
}
