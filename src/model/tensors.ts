// Named float tensors as the model code passes them around (weights, LoRA factors, vectors),
// and their safetensors I/O. Data stays Float32 or Float64; graphs of the other dtype get a
// converted copy at the boundary.

import type { DType, TypedArray } from '../engine/dtype.ts';
import { encodeFloats, parseSafetensors, type StDType, serializeSafetensors, toFloat32, toFloat64 } from '../engine/safetensors.ts';

export type FloatArray = Float32Array | Float64Array;

export interface Tensor {
  shape: number[];
  data: FloatArray;
}

export type Tensors = Map<string, Tensor>;

/** Reads every float tensor (F16/BF16 widen to F32; F64 stays F64 when `keepF64`). */
export function readTensors(bytes: Uint8Array, keepF64 = false): { tensors: Tensors; metadata: Record<string, string> } {
  const file = parseSafetensors(bytes);
  const tensors: Tensors = new Map();
  for (const [name, t] of file.tensors) {
    const data = keepF64 && t.dtype === 'F64' ? toFloat64(t) : toFloat32(t);
    tensors.set(name, { shape: [...t.shape], data });
  }
  return { tensors, metadata: file.metadata };
}

export function writeTensors(tensors: Tensors, dtype: StDType = 'F32', metadata?: Record<string, string>): Uint8Array {
  const out: Parameters<typeof serializeSafetensors>[0] = {};
  for (const [name, t] of tensors) out[name] = { dtype, shape: t.shape, data: encodeFloats(t.data, dtype) };
  return serializeSafetensors(out, metadata);
}

/** `data` as the typed array a graph of `dtype` is fed with (no copy when it already is one). */
export function asDType(data: ArrayLike<number>, dtype: DType): TypedArray {
  if (dtype === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  if (dtype === 'float32') return data instanceof Float32Array ? data : Float32Array.from(data);
  throw new Error(`model tensors are float32 or float64, not ${dtype}`);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
