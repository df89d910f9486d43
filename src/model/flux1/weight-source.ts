// Checkpoint tensors read on demand, one at a time, under the names the model code declares: a
// single safetensors file, a sharded one (`*.safetensors.index.json` → `weight_map`), or a renamed
// view of either (diffusers keys served as BFL's, diffusers-keys.ts). Reading goes through the
// streaming reader, so no file is ever one buffer and each tensor is read once.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SafetensorsFile } from '../../engine/safetensors-file.ts';
import type { Tensors } from '../tensors.ts';

export interface WeightSource {
  /** Every tensor's shape, by key. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** One tensor as float32, in a buffer of its own. */
  read(key: string): Float32Array;
  close(): void;
}

/** One or more safetensors files seen as one key space. */
export class SafetensorsSource implements WeightSource {
  readonly shapes = new Map<string, readonly number[]>();
  private readonly fileOf = new Map<string, SafetensorsFile>();

  private constructor(
    /** The file opened: a .safetensors or a sharded index. */
    readonly path: string,
    private readonly files: SafetensorsFile[],
  ) {
    for (const f of files) {
      for (const [k, e] of f.entries) {
        if (this.fileOf.has(k)) throw new Error(`${f.path}: tensor '${k}' is also in ${this.fileOf.get(k)!.path}`);
        this.fileOf.set(k, f);
        this.shapes.set(k, e.shape);
      }
    }
  }

  /** A `.safetensors` file, or a `.safetensors.index.json` naming its shards. */
  static open(path: string): SafetensorsSource {
    if (!path.endsWith('.index.json')) return new SafetensorsSource(path, [SafetensorsFile.open(path)]);
    const index = JSON.parse(readFileSync(path, 'utf8')) as { weight_map?: Record<string, string> };
    if (!index.weight_map) throw new Error(`${path}: no weight_map`);
    const shards = [...new Set(Object.values(index.weight_map))].sort();
    const files: SafetensorsFile[] = [];
    try {
      for (const s of shards) files.push(SafetensorsFile.open(join(dirname(path), s)));
    } catch (err) {
      for (const f of files) f.close();
      throw err;
    }
    return new SafetensorsSource(path, files);
  }

  /** The weights file of a diffusers component folder: `<stem>.safetensors` or its sharded index. */
  static openComponent(dir: string, stem = 'diffusion_pytorch_model'): SafetensorsSource {
    for (const name of [`${stem}.safetensors`, `${stem}.safetensors.index.json`]) {
      if (existsSync(join(dir, name))) return SafetensorsSource.open(join(dir, name));
    }
    throw new Error(`${dir}: neither ${stem}.safetensors nor ${stem}.safetensors.index.json`);
  }

  /** Bytes of stored tensor data. */
  get dataBytes(): number {
    return this.files.reduce((n, f) => n + f.dataBytes, 0);
  }

  read(key: string): Float32Array {
    const f = this.fileOf.get(key);
    if (!f) throw new Error(`checkpoint: no tensor '${key}'`);
    return f.readFloat32(key);
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/** Reads `keys` (every key by default) into a Tensors map; each tensor is read once. */
export function readAll(source: WeightSource, keys: Iterable<string> = source.shapes.keys()): Tensors {
  const out: Tensors = new Map();
  for (const k of keys) {
    const shape = source.shapes.get(k);
    if (!shape) throw new Error(`checkpoint: no tensor '${k}'`);
    out.set(k, { shape: [...shape], data: source.read(k) });
  }
  return out;
}
