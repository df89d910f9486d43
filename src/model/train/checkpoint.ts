// Trainer checkpoints as one safetensors file: the trained tensors, AdamW's moments, and the step,
// RNG state and run settings in the metadata, so a restarted job continues where it stopped.

import type { AdamWState } from '../../engine/adamw.ts';
import { parseSafetensors, serializeSafetensors, type TensorToWrite, toFloat32 } from '../../engine/safetensors.ts';

export interface TrainerState {
  step: number;
  params: Map<string, Float32Array>;
  shapes: Map<string, readonly number[]>;
  adam: AdamWState;
  rng: number[];
  /** Free-form run information (settings, losses so far). */
  info: Record<string, unknown>;
}

export function saveCheckpoint(s: TrainerState): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, data] of s.params) {
    const shape = s.shapes.get(name)!;
    tensors[`param/${name}`] = { dtype: 'F32', shape, data };
    tensors[`adam_m/${name}`] = { dtype: 'F32', shape, data: s.adam.m[name]! };
    tensors[`adam_v/${name}`] = { dtype: 'F32', shape, data: s.adam.v[name]! };
  }
  return serializeSafetensors(tensors, {
    step: String(s.step),
    adam_step: String(s.adam.step),
    rng: JSON.stringify(s.rng.map((x) => (Number.isNaN(x) ? null : x))),
    info: JSON.stringify(s.info),
  });
}

export function loadCheckpoint(bytes: Uint8Array): TrainerState {
  const file = parseSafetensors(bytes);
  const params = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [key, t] of file.tensors) {
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    if (kind === 'param') {
      params.set(name, toFloat32(t));
      shapes.set(name, t.shape);
    } else if (kind === 'adam_m') m[name] = toFloat32(t);
    else if (kind === 'adam_v') v[name] = toFloat32(t);
  }
  const meta = file.metadata;
  return {
    step: Number(meta.step),
    params,
    shapes,
    adam: { step: Number(meta.adam_step), m, v },
    rng: (JSON.parse(meta.rng ?? '[]') as (number | null)[]).map((x) => (x === null ? NaN : x)),
    info: JSON.parse(meta.info ?? '{}') as Record<string, unknown>,
  };
}
