// What the encoders hand the FLUX pipeline: float32 data with its dims, row-major.

import type { FloatArray } from '../tensors.ts';

export interface TextEmbedding {
  data: Float32Array;
  dims: number[];
}

export function embedding(data: FloatArray, dims: number[]): TextEmbedding {
  return { data: data instanceof Float32Array ? data : Float32Array.from(data), dims };
}
