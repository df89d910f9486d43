// A fixed, training-free feature space for the quality benchmark (DESIGN.md §5): a 16×16 colour
// thumbnail (layout and shape) plus a 4×4×4 colour histogram (palette), each L2-normalised. Being
// fixed, it cannot be gamed by the model it judges; being crude, it measures only gross similarity.

import type { RgbImage } from '../backend.ts';

const THUMB = 16;
const BINS = 4;

export function features(img: RgbImage): Float32Array {
  const thumb = new Float32Array(THUMB * THUMB * 3);
  const counts = new Float32Array(THUMB * THUMB);
  const hist = new Float32Array(BINS * BINS * BINS);
  for (let y = 0; y < img.height; y++) {
    const ty = Math.min(THUMB - 1, Math.floor((y * THUMB) / img.height));
    for (let x = 0; x < img.width; x++) {
      const tx = Math.min(THUMB - 1, Math.floor((x * THUMB) / img.width));
      const i = (y * img.width + x) * 3;
      const t = ty * THUMB + tx;
      counts[t]!++;
      for (let c = 0; c < 3; c++) thumb[t * 3 + c]! += img.data[i + c]! / 255;
      const bin = (v: number) => Math.min(BINS - 1, Math.floor((v * BINS) / 256));
      hist[bin(img.data[i]!) * BINS * BINS + bin(img.data[i + 1]!) * BINS + bin(img.data[i + 2]!)]!++;
    }
  }
  for (let t = 0; t < counts.length; t++) for (let c = 0; c < 3; c++) thumb[t * 3 + c]! /= Math.max(1, counts[t]!);
  const centre = (v: Float32Array) => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return v.map((x) => x - mean);
  };
  return Float32Array.from([...normalise(centre(thumb)), ...normalise(Float32Array.from(hist, Math.sqrt))]);
}

function normalise(v: Float32Array): Float32Array {
  const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0)) || 1;
  return v.map((x) => x / n);
}

/** Cosine similarity of two feature vectors (each half is unit-norm, so this is their mean). */
export function similarity(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s / 2;
}

/** Mean over `samples` of the best similarity to any reference image. */
export function nearestNeighbourSimilarity(samples: readonly RgbImage[], references: readonly RgbImage[]): number {
  const refs = references.map(features);
  let total = 0;
  for (const s of samples) {
    const f = features(s);
    total += Math.max(...refs.map((r) => similarity(f, r)));
  }
  return total / samples.length;
}
