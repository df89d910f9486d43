// Checkpoint tensors ↔ the graph's parameters, under HF key names. Every declared key must be
// in the checkpoint with its shape (a missing or misshapen tensor names the key). Two HF
// conventions are honoured: T5's tied embedding (`shared.weight` is also saved, or only saved,
// as `encoder.embed_tokens.weight`; safetensors writers drop one of a tied pair), and CLIP's
// `text_model.embeddings.position_ids` buffer (arange, present in older saves), which is ignored.
// Keys the graph has no parameter for are listed, so a config/checkpoint mismatch is visible.

import type { TypedArray } from '../../engine/dtype.ts';
import type { Value } from '../../engine/graph.ts';
import { asDType, type FloatArray, sameShape, type Tensors } from '../tensors.ts';
import { T5_EMBED_TOKENS, T5_SHARED } from './t5-encoder-model.ts';

/** Where weights come from: a folder of safetensors (CheckpointFiles) or tensors in memory. */
export interface WeightSource {
  keys(): string[];
  shape(key: string): readonly number[] | undefined;
  read(key: string): FloatArray;
}

export function tensorSource(tensors: Tensors): WeightSource {
  return {
    keys: () => [...tensors.keys()],
    shape: (k) => tensors.get(k)?.shape,
    read: (k) => {
      const t = tensors.get(k);
      if (!t) throw new Error(`no tensor '${k}'`);
      return t.data;
    },
  };
}

/** Other names a parameter may be stored under (tied weights). */
const ALIASES: Record<string, string[]> = { [T5_SHARED]: [T5_EMBED_TOKENS] };
/** Stored keys that are buffers, not parameters. */
const IGNORED = new Set(['text_model.embeddings.position_ids']);

function storedKey(key: string, source: WeightSource): string | undefined {
  return [key, ...(ALIASES[key] ?? [])].find((k) => source.shape(k) !== undefined);
}

/** The checkpoint tensor of one parameter, checked and converted to the graph's dtype. */
export function readParam(key: string, v: Value, source: WeightSource, what: string): TypedArray {
  const stored = storedKey(key, source);
  if (!stored) throw new Error(`${what} weights: missing '${key}' [${v.shape.join(',')}]`);
  const shape = source.shape(stored)!;
  if (!sameShape(shape, v.shape)) throw new Error(`${what} weights: '${stored}' is [${shape.join(',')}], the model expects [${v.shape.join(',')}]`);
  return asDType(source.read(stored), v.dtype);
}

/** Every parameter with its checkpoint tensor, for Session.create's `frozen`. */
export function frozenTextWeights(params: ReadonlyMap<string, Value>, source: WeightSource, what: string): Map<Value, TypedArray> {
  return new Map([...params].map(([key, v]) => [v, readParam(key, v, source, what)]));
}

/** Checkpoint keys no declared parameter (nor its tie) accounts for. */
export function unusedTextWeights(declared: Iterable<string>, source: WeightSource): string[] {
  const used = new Set<string>();
  for (const key of declared) {
    used.add(key);
    for (const alias of ALIASES[key] ?? []) used.add(alias);
  }
  return source.keys().filter((k) => !used.has(k) && !IGNORED.has(k));
}

/** Throws when a checkpoint holds tensors the config has no place for (wrong config or wrong folder). */
export function refuseUnused(declared: Iterable<string>, source: WeightSource, what: string): void {
  const extra = unusedTextWeights(declared, source);
  if (extra.length)
    throw new Error(`${what} weights: ${extra.length} keys this config has no parameter for (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`);
}
