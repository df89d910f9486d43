// The flux-tiny reference vectors (../shared/vectors/flux-tiny, beside the repo root), loaded
// once per test file, and the error measure every vector test uses.

import { readFileSync } from 'node:fs';
import { type FluxParams, parseFluxParams } from '../../src/model/flux/config.ts';
import type { FluxBatch } from '../../src/model/flux/feeds.ts';
import { readTensors, type Tensors } from '../../src/model/tensors.ts';

export const VECTORS = new URL('../../../shared/vectors/flux-tiny/', import.meta.url);

const read = (name: string) => readFileSync(new URL(name, VECTORS));

export const params: FluxParams = parseFluxParams(JSON.parse(read('config.json').toString('utf8')));
export const shape = { batch: 2, imgTokens: 16, txtTokens: 5 };

let cache: Map<string, Tensors> | undefined;
/** F64 cases stay F64; the weights and LoRA are stored F32. */
export function load(name: 'weights' | 'case_forward_backward' | 'case_denoise' | 'lora_rank4' | 'case_lora'): Tensors {
  cache ??= new Map();
  let t = cache.get(name);
  if (!t) {
    t = readTensors(read(`${name}.safetensors`), true).tensors;
    cache.set(name, t);
  }
  return t;
}

export const schedules = (): Record<string, number[]> => JSON.parse(read('schedules.json').toString('utf8')) as Record<string, number[]>;

export function data(t: Tensors, key: string): Float64Array | Float32Array {
  const v = t.get(key);
  if (!v) throw new Error(`vector '${key}' missing`);
  return v.data;
}

/** The inputs of case_forward_backward as a FluxBatch. */
export function forwardBatch(): FluxBatch {
  const c = load('case_forward_backward');
  return {
    img: data(c, 'img'),
    imgIds: data(c, 'img_ids'),
    txt: data(c, 'txt'),
    txtIds: data(c, 'txt_ids'),
    y: data(c, 'y'),
    timesteps: data(c, 'timesteps'),
    guidance: data(c, 'guidance'),
  };
}

/** Relative error as the issue defines it: max|a − b| / max|b|, b the reference. */
export function relErr(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) throw new Error(`relErr: ${a.length} values vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(Number(a[i]) - Number(b[i])));
    den = Math.max(den, Math.abs(Number(b[i])));
  }
  return den === 0 ? num : num / den;
}

export const TOLERANCE = 1e-4;
