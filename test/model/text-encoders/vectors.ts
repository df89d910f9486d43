// ../shared/vectors/text-encoders-tiny: configs, weights (HF keys) and cases, shared by the tests.

import { readFileSync } from 'node:fs';
import { type FloatArray, readTensors, type Tensors } from '../../../src/model/tensors.ts';
import { parseClipTextConfig, parseT5Config } from '../../../src/model/text-encoders/config.ts';

export const VECTORS = new URL('../../../../shared/vectors/text-encoders-tiny/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, VECTORS));

const configs = JSON.parse(read('config.json').toString('utf8')) as { t5: Record<string, unknown>; clip: Record<string, unknown> };
export const t5Config = parseT5Config(configs.t5);
export const clipConfig = parseClipTextConfig(configs.clip);
export const rawConfigs = configs;

export const loadTensors = (name: string, keepF64 = false): Tensors => readTensors(read(name), keepF64).tensors;

export function vector(tensors: Tensors, key: string): FloatArray {
  const t = tensors.get(key);
  if (!t) throw new Error(`vectors: '${key}' missing`);
  return t.data;
}

/** A case's input_ids (stored as F64) as rows of numbers. */
export function idRowsOf(tensors: Tensors): number[][] {
  const t = tensors.get('input_ids')!;
  const [rows, length] = t.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => Array.from(t.data.subarray(r * length, (r + 1) * length)));
}
